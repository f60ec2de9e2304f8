import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsPositive } from 'class-validator';

/** Fields are checked by bot-control; the proxy forwards only these three. */
export class ProxyJoinDto {
  @ApiProperty() room_url!: unknown;
  @ApiPropertyOptional() token?: unknown;
  @ApiPropertyOptional() bot?: unknown;
}

export class ProxyLeaveDto {
  @ApiProperty({ example: 12345 })
  @IsInt({ message: 'pid must be an integer' })
  @IsPositive({ message: 'pid must be positive' })
  pid!: number;

  @ApiPropertyOptional({ description: 'Stop at once (SIGKILL) instead of a graceful leave' })
  @IsOptional()
  @IsBoolean({ message: 'force must be a boolean' })
  force?: boolean;
}
