import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class CreateSignalingRoomDto {
  @ApiPropertyOptional({ description: 'a label for people' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;
}

export class IssueRoomTokenDto {
  @ApiProperty({ enum: ['worker', 'client'] })
  @IsIn(['worker', 'client'])
  role!: 'worker' | 'client';

  @ApiPropertyOptional({ description: 'the token can be used to join once (enforced in Postgres)', default: false })
  @IsOptional()
  @IsBoolean()
  single_use?: boolean;

  @ApiPropertyOptional({ description: 'lifetime in seconds (default 86400, capped by ROOM_TOKEN_MAX_TTL_SECONDS)' })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(30 * 86400)
  ttl_seconds?: number;
}

export class JoinRoomDto {
  @ApiProperty({ description: 'the room token from the owner' })
  @IsString()
  @MaxLength(4096)
  room_token!: string;
}
