import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class JoinDto {
  @ApiProperty({ example: 'https://example.daily.co/room' })
  @IsString({ message: 'room_url is required and must be an https:// URL' })
  @MaxLength(2048, { message: 'room_url must be at most 2048 characters' })
  @Matches(/^https:\/\/[^\s/?#]+[^\s]*$/i, { message: 'room_url is required and must be an https:// URL' })
  room_url!: string;

  @ApiPropertyOptional({ description: 'Room token handed to the bot (never logged)' })
  @IsOptional()
  @IsString({ message: 'token must be a string' })
  @MaxLength(8192, { message: 'token must be at most 8192 characters' })
  token?: string;

  @ApiPropertyOptional({ example: 'pearl', description: 'Which bot personality to run' })
  @IsOptional()
  @IsString({ message: 'bot must be a string' })
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'bot must be 1-64 letters, digits, - or _' })
  bot?: string;
}
