import { Reflector } from '@nestjs/core';

/**
 * Marks a route, controller or message handler as public: no credential is asked for.
 * It means that and nothing else; a route that needs a credential says which one with
 * @portcullis/auth's @Auth(kind). Defined here so platform's own routes (health, metrics)
 * can be public without platform depending on auth; @portcullis/auth re-exports it.
 */
export const Public = Reflector.createDecorator<true>({ transform: () => true });
