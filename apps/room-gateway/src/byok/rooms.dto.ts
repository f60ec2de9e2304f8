import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { z } from 'zod';
import { CapabilityOverrides, capabilityOverridesSchema } from './capabilities';
import { profileNames } from './profiles';

const ROOM_NAME = /^[A-Za-z0-9_-]{1,128}$/;

export const createRoomSchema = z
  .object({
    profile: z.enum(profileNames as [string, ...string[]]).default('conversation'),
    name: z.string().regex(ROOM_NAME, 'must be 1-128 letters, digits, "-" or "_"').optional(),
    overrides: z.object({ capabilities: capabilityOverridesSchema.optional() }).strict().optional(),
  })
  .strict();

export type CreateRoomRequest = z.infer<typeof createRoomSchema>;

export const roomPathSchema = z.object({
  room_name: z.string().regex(ROOM_NAME, 'must be 1-128 letters, digits, "-" or "_"'),
});

// The classes below document the API in OpenAPI; requests are parsed by the zod schemas above.

export class CapabilitiesDoc {
  @ApiPropertyOptional() chat?: boolean;
  @ApiPropertyOptional() screenshare?: boolean;
  @ApiPropertyOptional() recording?: boolean;
  @ApiPropertyOptional() live_streaming?: boolean;
  @ApiPropertyOptional() owner_only_broadcast?: boolean;
  @ApiPropertyOptional() start_video_off?: boolean;
  @ApiPropertyOptional() start_audio_off?: boolean;
  @ApiPropertyOptional() prejoin?: boolean;
  @ApiPropertyOptional() knocking?: boolean;
  @ApiPropertyOptional({ minimum: 1, maximum: 100000 }) max_participants?: number;
  @ApiPropertyOptional({ minimum: 1, maximum: 129600, nullable: true, type: Number }) expires_in_minutes?:
    number | null;
}

export class OverridesDoc {
  @ApiPropertyOptional({
    type: CapabilitiesDoc,
    description: 'Deep-merged over the profile; unknown fields and capabilities the provider cannot do are 422.',
  })
  capabilities?: CapabilityOverrides;
}

export class CreateRoomDoc {
  @ApiProperty({ enum: profileNames, default: 'conversation' }) profile!: string;
  @ApiPropertyOptional({ pattern: ROOM_NAME.source, description: 'Room name; the provider picks one when absent.' })
  name?: string;
  @ApiPropertyOptional({ type: OverridesDoc }) overrides?: OverridesDoc;
}

export class RoomDoc {
  @ApiProperty({ example: 'daily' }) provider!: string;
  @ApiProperty() room_name!: string;
  @ApiProperty({ nullable: true, type: String }) room_id!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Join URL; null for LiveKit (clients connect to the LiveKit server with a token).',
  })
  room_url!: string | null;
  @ApiProperty({ nullable: true, type: String }) created_at!: string | null;
  @ApiProperty({ type: Object, description: "The provider's own room settings." }) provider_config!: Record<
    string,
    unknown
  >;
}

export class CreatedRoomDoc extends RoomDoc {
  @ApiProperty() profile!: string;
  @ApiProperty({ type: CapabilitiesDoc }) capabilities!: CapabilitiesDoc;
  @ApiProperty({
    type: [String],
    description: 'Profile capabilities this provider cannot apply (requesting one in overrides is a 422).',
  })
  not_applied!: string[];
}

export class DeletedRoomDoc {
  @ApiProperty() provider!: string;
  @ApiProperty() room_name!: string;
  @ApiProperty() deleted!: boolean;
}

export class ErrorDoc {
  @ApiProperty({ description: 'A message, or for 422 a list of {loc, msg, type}.' }) detail!: string;
}
