/** JetStream key-value buckets room-gateway's replicas share. */
export const RoomGatewayBuckets = {
  /** BYOK rate-limit windows, per key fingerprint and per client address. */
  byokRateLimits: 'portcullis_room_gateway_rate_limits',
} as const;
