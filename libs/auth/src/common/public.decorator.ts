import { Reflector } from '@nestjs/core';

/** Opts a route out of its app's global guard. Every open route says so explicitly. */
export const Public = Reflector.createDecorator<true>({ transform: () => true });
