import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** POST /device/auth body: `device_id` and `device_secret`. */
export class DeviceAuthDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  device_id!: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  device_secret!: string;
}

export interface DeviceInfo {
  device_id: string;
  customer_id: string;
  name: string;
  active: boolean;
}

export interface DeviceAuthResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  customer_id: string;
  device_info: DeviceInfo;
}

export interface RefreshResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}
