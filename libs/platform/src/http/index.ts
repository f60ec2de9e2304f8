export { drainHttp } from './drain';
export { httpRoutes, MAX_PARAM_LENGTH } from './edge';
export { textProblem } from './text-checks';
