import { IsNotEmpty, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';

/** POST /vapi/start body: the assistant and its overrides. */
export class VapiStartDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  assistant_id!: string;

  @IsOptional()
  @IsObject()
  assistant_overrides?: Record<string, unknown>;
}

/** POST /vapi/stop body. */
export class VapiStopDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  call_id!: string;
}
