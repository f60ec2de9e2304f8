import { BadRequestException } from '@nestjs/common';
import { loadDeviceAuthConfig } from '../config';
import { VapiClient } from './vapi.client';

describe('VapiClient.getCall', () => {
  const client = new VapiClient(
    loadDeviceAuthConfig({ DATABASE_URL: 'postgres://127.0.0.1:1/none', VAPI_BASE_URL: 'http://127.0.0.1:1' }),
  );

  it('refuses a call id with a lone surrogate as a bad request, not a URIError from encodeURIComponent', () => {
    expect(() => client.getCall('call_\ud800')).toThrow(BadRequestException);
    expect(() => client.getCall('\udfffcall')).toThrow(BadRequestException);
  });
});
