import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** device-auth's id alphabet, minus ids made only of dots (they would walk the upstream path). */
export const DEVICE_ID = /^(?!\.+$)[A-Za-z0-9_.:-]{1,128}$/;
export const ROOM_ID = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class DeviceListQuery {
  @IsOptional() @IsString() @MaxLength(128) q?: string;
  @IsOptional() @IsIn(['all', 'active', 'revoked'], { message: 'status must be all, active or revoked' }) status?:
    'all' | 'active' | 'revoked';
  @IsOptional() @IsString() @MaxLength(128) customer_id?: string;
}

export class RegisterDto {
  @IsOptional()
  @IsString()
  @Matches(DEVICE_ID, { message: 'device id: letters, digits and _ . : - only (max 128)' })
  device_id?: string;
  @IsString({ message: 'customer id is required' }) @MaxLength(128) customer_id!: string;
  @IsOptional() @IsString() @MaxLength(256) name?: string;
}

export class RotateDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'overlap must be whole seconds' })
  @Min(0)
  @Max(30 * 24 * 3600)
  overlap_seconds?: number;
}

export class RoomSecretDto {
  @IsString({ message: 'room id is required' })
  @Matches(ROOM_ID, { message: "room id: letters, digits, '.', '-' and '_' only (max 128)" })
  room_id!: string;
}
