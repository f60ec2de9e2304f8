/**
 * The deployment files, checked without a Docker engine or a cluster: every Kubernetes object against the
 * Kubernetes API schemas (kubernetes-models), the compose file against the deployment rules, and each app's
 * own config loader against the environment each file gives it (so a missing or misnamed variable fails here,
 * not at 3 a.m. in a crash loop).
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { Namespace, ConfigMap, Service, Secret } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { loadBotControlConfig } from '../../apps/bot-control/src/config';
import { loadDeviceAuthConfig } from '../../apps/device-auth/src/config';
import { loadInterfaceProxyConfig } from '../../apps/interface-proxy/src/config';
import { loadRoomGatewayConfig } from '../../apps/room-gateway/src/config';

const ROOT = join(__dirname, '..', '..');
const K8S = join(ROOT, 'deploy', 'k8s');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

type Obj = Record<string, any>;
const TEST_SIGNING_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const APPS = { 'interface-proxy': 3000, 'bot-control': 3001, 'device-auth': 3002, 'room-gateway': 3003 } as const;
type App = keyof typeof APPS;
const STATELESS: App[] = ['interface-proxy', 'device-auth', 'room-gateway'];
const LOADERS: Record<App, (env: Record<string, string | undefined>) => unknown> = {
  'interface-proxy': (env) => loadInterfaceProxyConfig(env),
  'bot-control': (env) => loadBotControlConfig(env),
  // The signing key is a mounted file in both stacks; the loader reads a key this test makes.
  'device-auth': (env) => loadDeviceAuthConfig(env, () => TEST_SIGNING_KEY),
  'room-gateway': (env) => loadRoomGatewayConfig(env),
};

/** A variable that holds a secret (or a URL that may carry one): it may come only from a Secret / .env. */
const SECRET_NAME = /SECRET|PASSWORD|PEPPER|API_KEY|SIGNING_KEY$|_KEY_PREV|DATABASE_URL|^NATS_URL$/;

/** Every variable the apps read: the keys of each config schema (apps/<app>/src/config.ts) and the common ones. */
function variablesReadByApps(): Set<string> {
  const names = new Set<string>();
  const sources = [...Object.keys(APPS).map((a) => `apps/${a}/src/config.ts`), 'libs/platform/src/config/env.ts'];
  for (const file of sources) {
    const text = read(file);
    const blocks = [...text.matchAll(/(?:const shape|export const \w+Env) = \{([\s\S]*?)\n\};/g)];
    if (!blocks.length) throw new Error(`no schema in ${file}`);
    for (const block of blocks) for (const m of block[1].matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)) names.add(m[1]);
  }
  return names;
}

function loadK8s(): { file: string; obj: Obj }[] {
  const out: { file: string; obj: Obj }[] = [];
  for (const file of readdirSync(K8S).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const obj = doc.toJS() as Obj | null;
      if (obj) out.push({ file, obj });
    }
  }
  return out;
}

function matches(selector: Obj | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'In' && !e.values.includes(labels[e.key])) return false;
    if (e.operator === 'NotIn' && e.values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !(e.key in labels)) return false;
    if (e.operator === 'DoesNotExist' && e.key in labels) return false;
  }
  return true;
}

const MODELS: Record<string, new (o: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

function validateK8s(obj: Obj): void {
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!Model) throw new Error(`no schema for ${obj.apiVersion}/${obj.kind}`);
  new Model(obj).validate();
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  const all = loadK8s();
  const kustomization = all.find((d) => d.file === 'kustomization.yaml')!.obj;
  const resources = all.filter((d) => (kustomization.resources as string[]).includes(d.file)).map((d) => d.obj);
  const of = (kind: string) => resources.filter((o) => o.kind === kind);
  const deployments = of('Deployment');
  const byApp = (app: string) => deployments.find((d) => d.metadata.name === app)!;
  const configMap = of('ConfigMap')[0];
  const example = all.filter((d) => d.file === 'secret.example.yaml').map((d) => d.obj);
  const policies = of('NetworkPolicy');
  const podLabels = (app: string) => ({ 'app.kubernetes.io/name': app });

  it('kustomization lists every manifest but the secret example, and every listed file exists', () => {
    expect(kustomization.kind).toBe('Kustomization');
    expect(kustomization.namespace).toBe('portcullis');
    const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.filter((f) => f !== 'secret.example.yaml').sort());
    expect(kustomization.resources).not.toContain('secret.example.yaml');
    expect(kustomization.secretGenerator).toBeUndefined();
    expect(kustomization.images).toEqual([expect.objectContaining({ name: 'portcullis' })]);
  });

  it('every object, the secret example included, is valid against the Kubernetes API schema', () => {
    const objects = [...resources, ...example];
    expect(objects.length).toBeGreaterThanOrEqual(20);
    for (const o of objects) expect(() => validateK8s(o)).not.toThrow();
  });

  it('the schema check itself refuses a broken object', () => {
    const broken = structuredClone(byApp('device-auth'));
    broken.spec.replicas = 'two';
    broken.spec.template.spec.containers[0].resources.limits.memory = 'lots';
    expect(() => validateK8s(broken)).toThrow(/replicas|memory/);
  });

  it('runs every app from the one image by its command, two replicas of each stateless app', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(Object.keys(APPS).sort());
    for (const [app, port] of Object.entries(APPS)) {
      const d = byApp(app);
      const c = d.spec.template.spec.containers[0];
      expect(c.image).toBe('portcullis');
      // args, not command: the image's ENTRYPOINT (tini, which reaps orphaned bot processes) stays PID 1.
      expect(c.command).toBeUndefined();
      expect(c.args).toEqual(['node', `dist/apps/${app}/src/main.js`]);
      expect(existsSync(join(ROOT, 'apps', app, 'src', 'main.ts'))).toBe(true);
      expect(c.ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }]);
      expect(c.env).toContainEqual({ name: 'PORT', value: String(port) });
      expect(matches(d.spec.selector, d.spec.template.metadata.labels)).toBe(true);
      expect(d.spec.replicas).toBe(STATELESS.includes(app as App) ? 2 : 1);
    }
    // bot-control holds its bots as child processes in one pod's memory: one pod, never two at once.
    expect(byApp('bot-control').spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('probes the health endpoints and sets requests and limits', () => {
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0];
      expect(c.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      expect(c.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
      for (const kind of ['requests', 'limits']) {
        expect(c.resources[kind]).toEqual({ cpu: expect.anything(), memory: expect.anything() });
      }
    }
  });

  it('runs as non-root with a read-only root filesystem, no capabilities, no escalation, seccomp RuntimeDefault', () => {
    const pods = [...deployments.map((d) => d.spec.template.spec), ...of('Job').map((j) => j.spec.template.spec)];
    expect(pods).toHaveLength(5);
    for (const pod of pods) {
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      const volumes = new Map<string, Obj>(pod.volumes.map((v: Obj) => [v.name, v]));
      for (const c of pod.containers) {
        expect(c.securityContext).toEqual({
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        const mounts = c.volumeMounts as Obj[];
        expect(mounts.find((m) => m.mountPath === '/tmp')).toBeDefined();
        for (const m of mounts) {
          const v = volumes.get(m.name)!;
          expect(v.emptyDir ?? v.secret).toBeDefined();
          if (v.secret) expect(m.readOnly).toBe(true);
        }
      }
    }
    // device-auth's data dir is writable scratch space, not the image.
    const da = byApp('device-auth').spec.template.spec;
    expect(da.containers[0].volumeMounts).toContainEqual({
      name: 'data',
      mountPath: configMap.data.PORTCULLIS_DATA_DIR,
    });
  });

  it('keeps secrets out: Secret references only, no secret-named value in env or the ConfigMap', () => {
    expect(of('Secret')).toHaveLength(0);
    for (const key of Object.keys(configMap.data)) expect(key).not.toMatch(SECRET_NAME);
    const exampleKeys = new Map(example.map((s) => [s.metadata.name, Object.keys(s.stringData)]));
    for (const s of example) for (const v of Object.values(s.stringData)) expect(v).toBe('');
    const pods = [...deployments, ...of('Job')].map((o) => o.spec.template.spec);
    for (const pod of pods) {
      for (const c of pod.containers) {
        for (const e of c.env ?? []) {
          if (SECRET_NAME.test(e.name)) expect(e.value).toBeUndefined();
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) expect(exampleKeys.get(ref.name)).toContain(ref.key);
        }
      }
      for (const v of pod.volumes ?? []) if (v.secret) expect(exampleKeys.has(v.secret.secretName)).toBe(true);
    }
  });

  it('gives every app exactly variables it reads, enough to pass its own production config check', () => {
    const known = variablesReadByApps();
    for (const key of Object.keys(configMap.data)) expect(known).toContain(key);
    expect(configMap.data.NODE_ENV).toBe('production');
    // Migrations belong to the Job, never to a replica's start.
    expect(configMap.data.DEVICE_AUTH_MIGRATE_ON_START).toBe('0');
    for (const app of Object.keys(APPS) as App[]) {
      const c = byApp(app).spec.template.spec.containers[0];
      // With only the required Secret keys, and with the optional ones too (rotation, signaling, Vapi).
      for (const withOptional of [false, true]) {
        const env: Record<string, string> = { ...configMap.data };
        for (const e of c.env) {
          expect(known).toContain(e.name);
          if (e.valueFrom?.secretKeyRef?.optional && !withOptional) continue;
          // A value an operator puts in the Secret: long enough for production's checks.
          env[e.name] = e.value ?? (e.name.endsWith('_URL') ? `postgres://u:p@db.example:5432/${app}` : 'x'.repeat(48));
          if (e.name === 'NATS_URL') env[e.name] = 'nats://nats.example:4222';
          if (e.name.endsWith('_UNTIL')) env[e.name] = new Date(Date.now() + 3600_000).toISOString();
        }
        const cfg = LOADERS[app](env) as Obj;
        if (app === 'device-auth') expect(cfg.migrateOnStart).toBe(false);
        if (app === 'room-gateway' && withOptional)
          expect(cfg.signaling).toMatchObject({ migrateOnStart: false, deviceAuthUrl: 'http://device-auth:3002' });
        if (app === 'interface-proxy')
          expect([cfg.deviceTokens?.jwksUrl, cfg.dashboard]).toEqual([
            'http://device-auth:3002/.well-known/jwks.json',
            undefined,
          ]);
      }
    }
  });

  it('runs migrations as a Job with the migration command', () => {
    const [job] = of('Job');
    const c = job.spec.template.spec.containers[0];
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(c.command).toBeUndefined();
    expect(c.args).toEqual(['sh', 'deploy/migrate.sh']);
    for (const cmd of ['apps/device-auth/src/migrate', 'apps/room-gateway/src/database/migrate']) {
      expect(read('deploy/migrate.sh')).toContain(`node dist/${cmd}.js`);
      expect(existsSync(join(ROOT, `${cmd}.ts`))).toBe(true);
    }
    expect(c.env.map((e: Obj) => e.valueFrom.secretKeyRef.key)).toContain('DEVICE_AUTH_DATABASE_URL');
  });

  it('has a PodDisruptionBudget for every replicated app that still lets one pod go', () => {
    const pdbs = of('PodDisruptionBudget');
    for (const app of STATELESS) {
      const d = byApp(app);
      const pdb = pdbs.filter((p) => matches(p.spec.selector, d.spec.template.metadata.labels));
      expect(pdb).toHaveLength(1);
      expect(pdb[0].spec.minAvailable).toBeLessThan(d.spec.replicas);
      expect(pdb[0].spec.minAvailable).toBeGreaterThanOrEqual(1);
    }
  });

  it('has a Service per app that selects its pods on the named port', () => {
    for (const [app, port] of Object.entries(APPS)) {
      const svc = of('Service').find((s) => s.metadata.name === app)!;
      expect(svc.spec.type).toBe('ClusterIP');
      expect(matches({ matchLabels: svc.spec.selector }, byApp(app).spec.template.metadata.labels)).toBe(true);
      expect(svc.spec.ports).toEqual([{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }]);
    }
    // interface-proxy reaches bot-control through its Service name.
    expect(configMap.data.BOT_CONTROL_BASE_URL).toBe('http://bot-control:3001');
  });

  describe('NetworkPolicies', () => {
    const selecting = (labels: Record<string, string>, type: 'Ingress' | 'Egress') =>
      policies.filter((p) => p.spec.policyTypes.includes(type) && matches(p.spec.podSelector, labels));
    const egressPorts = (labels: Record<string, string>) =>
      selecting(labels, 'Egress').flatMap((p) =>
        (p.spec.egress ?? []).flatMap((r: Obj) => (r.ports ?? []).map((x: Obj) => x.port)),
      );

    it('deny everything by default, both ways', () => {
      const deny = policies.find(
        (p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress,
      )!;
      expect(deny.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    });

    it('allow DNS from every pod', () => {
      const dns = policies.find((p) => Object.keys(p.spec.podSelector).length === 0 && p.spec.egress)!;
      expect(dns.spec.egress[0].ports).toEqual([
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ]);
      expect(dns.spec.egress[0].to[0].namespaceSelector.matchLabels).toEqual({
        'kubernetes.io/metadata.name': 'kube-system',
      });
    });

    it("let only interface-proxy reach bot-control's port", () => {
      const rules = selecting(podLabels('bot-control'), 'Ingress').flatMap((p) => p.spec.ingress ?? []);
      expect(rules.length).toBeGreaterThan(0);
      for (const r of rules) {
        expect(r.from).toEqual([{ podSelector: { matchLabels: podLabels('interface-proxy') } }]);
        expect(r.ports).toEqual([{ protocol: 'TCP', port: 3001 }]);
      }
      // and interface-proxy may leave for it
      expect(egressPorts(podLabels('interface-proxy'))).toContain(3001);
      for (const other of ['device-auth', 'room-gateway', 'portcullis-migrate'])
        expect(egressPorts(podLabels(other))).not.toContain(3001);
    });

    it('let only the apps reach NATS, and only device-auth, room-gateway and the migration reach Postgres', () => {
      for (const app of Object.keys(APPS)) expect(egressPorts(podLabels(app))).toContain(4222);
      for (const app of ['device-auth', 'room-gateway', 'portcullis-migrate'])
        expect(egressPorts(podLabels(app))).toContain(5432);
      for (const app of ['interface-proxy', 'bot-control']) expect(egressPorts(podLabels(app))).not.toContain(5432);
      const strangers: Record<string, string>[] = [{ 'app.kubernetes.io/name': 'something-else' }, {}];
      for (const labels of strangers) {
        expect(egressPorts(labels)).not.toContain(4222);
        expect(egressPorts(labels)).not.toContain(5432);
      }
      expect(egressPorts(podLabels('portcullis-migrate'))).not.toContain(4222);
    });
  });
});

/** Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message} and ${VAR?message}. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    const v = env[name];
    if (op?.endsWith('-')) return v === undefined || (op === ':-' && v === '') ? (arg ?? '') : v;
    if (op?.endsWith('?') && (v === undefined || (op === ':?' && v === ''))) throw new Error(`${name}: ${arg}`);
    return v ?? '';
  });
}

function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

describe('docker-compose.yml and .env.example', () => {
  const text = read('docker-compose.yml');
  const compose = parse(text, { merge: true }) as Obj;
  const services = compose.services as Record<string, Obj>;
  const example = parseEnvFile(read('.env.example'));
  const referenced = new Set([...text.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]));

  it('runs the whole suite: nats with JetStream, postgres on a named volume, the migration job, four apps', () => {
    expect(Object.keys(services).sort()).toEqual([
      'bot-control',
      'device-auth',
      'interface-proxy',
      'migrate',
      'nats',
      'postgres',
      'room-gateway',
    ]);
    expect(services.nats.command).toContain('-js');
    const pgVolume = (services.postgres.volumes as string[])[0].split(':');
    expect(pgVolume[1]).toBe('/var/lib/postgresql/data');
    expect(Object.keys(compose.volumes)).toContain(pgVolume[0]);
    expect(services.migrate.command).toEqual(['sh', 'deploy/migrate.sh']);
    expect(services.migrate.restart).toBe('no');
    for (const app of Object.keys(APPS)) {
      expect(services[app].command).toEqual(['node', `dist/apps/${app}/src/main.js`]);
      expect(services[app].image).toBe(services.migrate.image);
    }
  });

  it('gives every service a healthcheck (apps on /health/ready of their own port); only the one-shot job has none', () => {
    const waitedToComplete = new Set(
      Object.values(services).flatMap((s) =>
        Object.entries((s.depends_on ?? {}) as Record<string, Obj>)
          .filter(([, d]) => d.condition === 'service_completed_successfully')
          .map(([n]) => n),
      ),
    );
    for (const [name, s] of Object.entries(services)) {
      expect(s.healthcheck).toBeDefined();
      if (s.healthcheck.disable) {
        expect(waitedToComplete.has(name)).toBe(true);
        expect(s.restart).toBe('no');
      } else {
        expect(s.healthcheck.test[0]).toBe('CMD');
      }
    }
    for (const [app, port] of Object.entries(APPS)) {
      expect(services[app].healthcheck.test.join(' ')).toContain(`http://127.0.0.1:${port}/health/ready`);
      expect(services[app].environment.PORT).toBe(String(port));
    }
  });

  it('starts each service only after what it needs is healthy (or, for the migration, finished)', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(Array.isArray(s.depends_on)).toBe(false);
      for (const [dep, d] of Object.entries((s.depends_on ?? {}) as Record<string, Obj>)) {
        expect(services[dep]).toBeDefined();
        if (services[dep].healthcheck?.disable)
          expect([name, d.condition]).toEqual([name, 'service_completed_successfully']);
        else expect([name, d.condition]).toEqual([name, 'service_healthy']);
      }
    }
    expect(Object.keys(services['device-auth'].depends_on).sort()).toEqual(['migrate', 'nats', 'postgres']);
    expect(Object.keys(services['interface-proxy'].depends_on)).toContain('bot-control');
    expect(services['device-auth'].environment.DEVICE_AUTH_MIGRATE_ON_START).toBe('0');
  });

  it('inlines no secret: secret-named variables come from .env, and .env.example holds no value for them', () => {
    for (const s of Object.values(services)) {
      for (const [name, value] of Object.entries((s.environment ?? {}) as Record<string, string>)) {
        if (!SECRET_NAME.test(name) || name === 'NATS_URL') continue;
        if (name.endsWith('DATABASE_URL')) expect(value).toMatch(/^postgres:\/\/[^:]+:\$\{[A-Z_]+[^}]*\}@/);
        else expect(value).toMatch(/^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$/);
      }
    }
    // NATS has no credentials inside the compose network.
    expect(
      new Set(
        Object.values(services)
          .map((s) => s.environment?.NATS_URL)
          .filter(Boolean),
      ),
    ).toEqual(new Set(['nats://nats:4222']));
    for (const [name, value] of example) if (SECRET_NAME.test(name)) expect([name, value]).toEqual([name, '']);
    expect(services['device-auth'].environment.DEVICE_AUTH_SIGNING_KEY_FILE).toMatch(/^\/run\/secrets\//);
    expect(services['device-auth'].secrets).toEqual(['device_auth_signing_key']);
  });

  it('.env.example documents exactly the variables the compose file reads', () => {
    expect([...example.keys()].sort()).toEqual([...referenced].sort());
    // Each variable (or run of related variables) sits under a comment that says what it is.
    const lines = read('.env.example').split('\n');
    lines.forEach((line, i) => {
      if (!/^[A-Z]/.test(line)) return;
      let j = i - 1;
      while (j >= 0 && /^[A-Z][A-Z0-9_]*=/.test(lines[j])) j--;
      expect([line, lines[j]?.startsWith('# ')]).toEqual([line, true]);
    });
  });

  it('publishes a host port on every interface for interface-proxy only; bot-control publishes none', () => {
    const env = Object.fromEntries(example);
    for (const [name, s] of Object.entries(services)) {
      for (const p of (s.ports ?? []) as string[]) {
        const published = interpolate(p, env);
        if (name === 'interface-proxy') expect(published).toBe('3000:3000');
        else expect(published).toMatch(/^127\.0\.0\.1:/);
      }
    }
    expect(services['bot-control'].ports).toBeUndefined();
    expect(services.nats.ports).toBeUndefined();
    expect(services.postgres.ports).toBeUndefined();
  });

  it('hardens the app containers: read-only root, /tmp tmpfs, no capabilities, no new privileges', () => {
    for (const app of [...Object.keys(APPS), 'migrate']) {
      const s = services[app];
      expect(s.read_only).toBe(true);
      expect(s.tmpfs).toContain('/tmp');
      expect(s.cap_drop).toEqual(['ALL']);
      expect(s.security_opt).toContain('no-new-privileges:true');
    }
  });

  it('gives every app an environment that passes its own production config check once .env is filled in', () => {
    const known = variablesReadByApps();
    const env: Record<string, string> = Object.fromEntries(example);
    for (const [name, value] of example)
      if (value === '' && SECRET_NAME.test(name) && !name.includes('_PREV')) env[name] = 'y'.repeat(48);
    for (const app of Object.keys(APPS) as App[]) {
      const raw = services[app].environment as Record<string, string>;
      const resolved = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, interpolate(String(v), env)]));
      for (const k of Object.keys(resolved)) expect(known).toContain(k);
      expect(resolved.NODE_ENV).toBe('production');
      const cfg = LOADERS[app](resolved) as Obj;
      // The apps never migrate on start here; the `migrate` service does.
      if (app === 'device-auth') expect(cfg.migrateOnStart).toBe(false);
      if (app === 'room-gateway') expect(cfg.signaling).toMatchObject({ migrateOnStart: false });
      if (app === 'interface-proxy')
        expect([cfg.deviceTokens?.jwksUrl, cfg.dashboard]).toEqual([
          'http://device-auth:3002/.well-known/jwks.json',
          undefined,
        ]);
    }
    // Without a filled-in .env, compose refuses to start rather than run with an empty secret.
    expect(() =>
      interpolate(services['bot-control'].environment.BOT_CONTROL_SHARED_SECRET, Object.fromEntries(example)),
    ).toThrow(/BOT_CONTROL_SHARED_SECRET/);
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('builds in one stage and runs production dependencies only, as a non-root user, in the final one', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s).toMatch(/^\$\{NODE_IMAGE\} AS /);
    expect(stages[0]).toMatch(/RUN npm ci\b/);
    expect(stages[0]).toMatch(/RUN npm run build/);
    const final = stages[stages.length - 1];
    expect(final).toMatch(/RUN npm ci --omit=dev/);
    expect(final).toMatch(/^USER 1000:1000$/m);
    expect(final).not.toMatch(/npm run build/);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/apps\/[a-z-]+\/src\/main\.js"\]$/m);
    // Compose `command` and Kubernetes `args` replace CMD only; tini stays PID 1.
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    expect(final).toMatch(/apt-get install -y --no-install-recommends tini/);
  });

  it('bakes in no secret and copies what the apps read at run time', () => {
    for (const m of dockerfile.matchAll(/^(?:ENV|ARG)\s+([\s\S]*?)(?<!\\)\n/gm)) {
      for (const name of m[1].match(/[A-Z][A-Z0-9_]+(?==)/g) ?? []) expect(name).not.toMatch(SECRET_NAME);
    }
    for (const needed of ['apps/bot-control/bot', 'deploy/migrate.sh']) {
      expect(dockerfile).toContain(`COPY ${needed} `);
      expect(existsSync(join(ROOT, needed))).toBe(true);
    }
  });

  it('keeps local state and secrets out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['.git', 'node_modules', 'dist', '.env', '.data', '**/*.pem']) expect(ignored).toContain(p);
  });
});
