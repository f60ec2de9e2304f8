export * from './paths';
export * from './config-file';
export * from './suite-config';
export * from './load';
