import type { ProviderCredential as Credential } from '@portcullis/auth';
import { ProviderAdapter } from './providers/provider';

/**
 * Who is calling: the caller's own provider key, checked for shape by libs/auth's
 * provider-key strategy and handed to the handler with `@Principal()`. It lives on the
 * request object only (under a symbol), for the length of the request.
 */
export type ProviderCredential = Credential<ProviderAdapter>;
