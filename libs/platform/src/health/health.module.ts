import { DynamicModule, Module, Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { APP_NAME, HealthController } from './health.controller';

@Module({})
export class HealthModule {
  /** `checks` is a provider of READINESS_CHECKS built by the app, if it has dependencies of its own. */
  static forRoot(app: string, checks?: Provider): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [{ provide: APP_NAME, useValue: app }, ...(checks ? [checks] : [])],
    };
  }
}
