export { drainHttp } from './drain';
export { httpRoutes } from './edge';
