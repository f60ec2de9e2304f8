import { IsString, MaxLength } from 'class-validator';

export class SignInDto {
  @IsString({ message: 'api_key is required' })
  @MaxLength(1024, { message: 'api_key is too long' })
  api_key!: string;
}
