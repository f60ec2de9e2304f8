import { Type } from 'class-transformer';
import { IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { DEVICE_ID_PATTERN } from '../devices/device.dto';

export class RegisterDeviceDto {
  @IsOptional()
  @IsString()
  @Matches(DEVICE_ID_PATTERN, { message: 'device_id: letters, digits and _ . : - only (max 128)' })
  device_id?: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  customer_id!: string;

  @IsOptional()
  @IsString()
  @MaxLength(256)
  name?: string;
}

export class RotateSecretDto {
  /** Seconds the old secret keeps working (0: it stops at once). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3600)
  overlap_seconds?: number;
}

export class ListQuery {
  @IsOptional()
  @IsString()
  @MaxLength(128)
  customer_id?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;
}

export class AuditQuery {
  @IsOptional()
  @IsString()
  @MaxLength(128)
  device_id?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}
