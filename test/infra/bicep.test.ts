import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  type BicepSource,
  type Declaration,
  moduleParts,
  objectKeys,
  objectProperty,
  paramInfo,
  parseBicep,
} from './bicepSource.js';

const root = join(import.meta.dirname, '..', '..');
const infra = join(root, 'infra');
const read = (path: string) => readFileSync(path, 'utf8');

function bicepFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return bicepFiles(path);
    return entry.name.endsWith('.bicep') ? [path] : [];
  });
}

const files = bicepFiles(infra);
const sources = new Map<string, BicepSource>(files.map((file) => [file, parseBicep(read(file), relative(root, file))]));
const source = (file: string): BicepSource => {
  const parsed = sources.get(file);
  if (!parsed) throw new Error(`not parsed: ${file}`);
  return parsed;
};
const mainFile = join(infra, 'main.bicep');
const main = source(mainFile);
const of = (src: BicepSource, kind: Declaration['kind']) => src.declarations.filter((d) => d.kind === kind);
const names = (src: BicepSource, kind: Declaration['kind']) => new Set(of(src, kind).map((d) => d.name));
/** Code plus the text of every string (interpolations reference identifiers too). */
const usageText = (src: BicepSource) => [src.code, ...src.strings].join('\n');

const KNOWN_ROLES: Record<string, string> = {
  AcrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
  'Monitoring Reader': '43d0d8ad-25c7-4714-9337-8ba259a9fe05',
  'Container Apps Contributor': '358470bc-b998-42bd-ab17-a7e34c199c0f',
  'Cognitive Services OpenAI User': '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd',
};
/** Long base64/hex runs with mixed characters; resource type strings (Microsoft.X/y@api) are not keys. */
function looksLikeKeyMaterial(text: string): boolean {
  if (/^Microsoft\.[A-Za-z]+\/[A-Za-z/]+@[\d-]+(-preview)?$/.test(text)) return false;
  return [...text.matchAll(/[A-Za-z0-9+/]{32,}={0,2}/g)].some((m) => /\d.*\d/.test(m[0]) && /[A-Za-z]/.test(m[0]));
}

const PLAIN_PARAMETER_FILES = ['main.parameters.dev.json', 'main.parameters.prod.json'];
const TEAMSFX_PARAMETER_FILES = ['main.parameters.dev.teamsfx.json', 'main.parameters.prod.teamsfx.json'];
const SECRETS_EXAMPLE = 'secrets.parameters.example.json';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('Bicep sources (checked without a compiler)', () => {
  it('finds the main template and its modules', () => {
    expect(files.map((f) => relative(infra, f)).sort()).toEqual(
      expect.arrayContaining([
        'main.bicep',
        'modules/containerApp.bicep',
        'modules/bot.bicep',
        'modules/keyVault.bicep',
      ]),
    );
  });

  it('parses: balanced brackets, terminated strings, only known top-level statements', () => {
    // parseBicep throws on any of these; the map above already parsed every file.
    expect(sources.size).toBe(files.length);
    expect(() => parseBicep("param a string = 'x\nvar b = 1", 't')).toThrow(/newline inside a single-quoted string/);
    expect(() => parseBicep('var a = {\n  b: [\n}\n', 't')).toThrow(/unbalanced/);
    expect(() => parseBicep('resource x {\n', 't')).toThrow(/never closed/);
  });

  it('references only module files that exist, passing declared params and every required one', () => {
    let checked = 0;
    for (const file of files) {
      const src = source(file);
      for (const declaration of of(src, 'module')) {
        const { path, body } = moduleParts(src, declaration);
        const target = join(dirname(file), path);
        expect(existsSync(target), `${relative(root, file)}: module ${declaration.name} -> ${path}`).toBe(true);
        const module = source(target);
        const declared = new Map(of(module, 'param').map((p) => [p.name, paramInfo(p)]));
        const paramsObject = objectProperty(body, 'params') ?? '{}';
        const passed = objectKeys(paramsObject);
        for (const name of passed) {
          expect(declared.has(name), `${declaration.name} passes ${name}, which ${path} does not declare`).toBe(true);
        }
        for (const [name, info] of declared) {
          if (!info.hasDefault) expect(passed, `${declaration.name} must pass ${name} to ${path}`).toContain(name);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it('reads only outputs that the referenced modules declare', () => {
    for (const file of files) {
      const src = source(file);
      const modules = new Map(of(src, 'module').map((d) => [d.name, moduleParts(src, d).path]));
      for (const match of usageText(src).matchAll(/\b([A-Za-z_]\w*)\.outputs\.([A-Za-z_]\w*)/g)) {
        const [, moduleName = '', output = ''] = match;
        const path = modules.get(moduleName);
        expect(path, `${relative(root, file)}: ${moduleName} is not a module`).toBeDefined();
        const outputs = names(source(join(dirname(file), path as string)), 'output');
        expect(outputs.has(output), `${moduleName}.outputs.${output} is not declared in ${path}`).toBe(true);
      }
    }
  });

  it('uses every declared param and var, and references only declared symbols with .properties', () => {
    for (const file of files) {
      const src = source(file);
      const text = usageText(src);
      for (const declaration of [...of(src, 'param'), ...of(src, 'var')]) {
        const uses = text.match(new RegExp(`\\b${declaration.name}\\b`, 'g'))?.length ?? 0;
        expect(uses, `${relative(root, file)}: ${declaration.kind} ${declaration.name} is never used`).toBeGreaterThan(
          1,
        );
      }
      const symbols = new Set([...names(src, 'resource'), ...names(src, 'module')]);
      for (const match of text.matchAll(/\b([A-Za-z_]\w*)\.properties\b/g)) {
        const symbol = match[1] as string;
        expect(symbols.has(symbol), `${relative(root, file)}: ${symbol}.properties refers to no resource`).toBe(true);
      }
    }
  });

  it('declares every parameter that the per-environment parameter files set, with matching types', () => {
    const declared = new Map(of(main, 'param').map((p) => [p.name, paramInfo(p)]));
    const paramFiles = readdirSync(infra).filter((f) => /^(main|secrets)\.parameters\.[\w.]+\.json$/.test(f));
    expect(paramFiles.sort()).toEqual([...PLAIN_PARAMETER_FILES, ...TEAMSFX_PARAMETER_FILES, SECRETS_EXAMPLE].sort());
    for (const paramFile of paramFiles) {
      const parameters = (
        JSON.parse(read(join(infra, paramFile))) as { parameters: Record<string, { value: unknown }> }
      ).parameters;
      for (const [name, { value }] of Object.entries(parameters)) {
        const info = declared.get(name);
        expect(info, `${paramFile}: ${name} is not a parameter of main.bicep`).toBeDefined();
        const jsonType = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
        const expected = { string: 'string', int: 'number', bool: 'boolean', array: 'array', object: 'object' }[
          info?.type ?? ''
        ];
        expect(jsonType, `${paramFile}: ${name}`).toBe(expected);
        if (info?.allowed && typeof value === 'string' && !value.includes('${{')) {
          expect(info.allowed, `${paramFile}: ${name}=${value} is not allowed`).toContain(`'§`);
          const allowedValues = [...info.allowed.matchAll(/'§(\d+)'/g)].map((m) => main.strings[Number(m[1])]);
          expect(allowedValues, `${paramFile}: ${name}`).toContain(value);
        }
      }
      if (paramFile === SECRETS_EXAMPLE) continue;
      for (const [name, info] of declared) {
        if (!info.hasDefault) expect(Object.keys(parameters), `${paramFile} must set ${name}`).toContain(name);
      }
    }
  });

  it('outputs everything teamsapp.yml and the Teams manifest read from the deployment', () => {
    const outputs = names(main, 'output');
    // Values that come from the env file, the toolkit itself or earlier actions, not from the ARM outputs.
    const notFromArm = new Set([
      'TEAMSFX_ENV',
      'AZURE_SUBSCRIPTION_ID',
      'APP_NAME_SUFFIX',
      'TEAMS_APP_ID',
      'CONTAINER_IMAGE',
      'APP_WEBSITE_URL',
      'APP_PRIVACY_URL',
      'APP_TERMS_URL',
    ]);
    const placeholders = new Set(
      [read(join(root, 'teamsapp.yml')), read(join(root, 'appPackage', 'manifest.json'))].flatMap((text) =>
        [...text.matchAll(/\$\{\{([A-Z0-9_]+)\}\}/g)].map((m) => m[1] as string),
      ),
    );
    const needed = [...placeholders].filter((name) => !notFromArm.has(name));
    expect(needed).toEqual(expect.arrayContaining(['BOT_ID', 'BOT_DOMAIN', 'AZURE_CONTAINER_REGISTRY_NAME']));
    for (const name of needed) expect(outputs.has(name), `main.bicep has no output ${name}`).toBe(true);
    expect(outputs).toContain('AZURE_CONTAINER_APP_NAME');
    expect(outputs).toContain('AZURE_RESOURCE_GROUP_NAME');
  });

  it('teamsapp.yml provisions, deploys and publishes with documented toolkit actions', () => {
    const project = parseYaml(read(join(root, 'teamsapp.yml'))) as Record<string, { uses: string }[]>;
    const uses = (stage: string) => (project[stage] ?? []).map((action) => action.uses);
    expect(uses('provision')).toEqual([
      'teamsApp/create',
      'script',
      'arm/deploy',
      'script',
      'arm/deploy',
      'teamsApp/validateManifest',
      'teamsApp/zipAppPackage',
      'teamsApp/validateAppPackage',
      'teamsApp/update',
    ]);
    expect(uses('deploy')).toEqual(['script', 'script']);
    expect(uses('publish')).toContain('teamsApp/publishAppPackage');
    const armPaths = (project.provision ?? [])
      .filter((a) => a.uses === 'arm/deploy')
      .flatMap((a) => (a as unknown as { with: { templates: { path: string; parameters: string }[] } }).with.templates);
    for (const template of armPaths) {
      expect(existsSync(join(root, template.path))).toBe(true);
      expect(template.parameters).toMatch(/\.teamsfx\.json$/);
      for (const env of ['dev', 'prod']) {
        expect(existsSync(join(root, template.parameters.replace(/\$\{\{TEAMSFX_ENV\}\}/, env)))).toBe(true);
      }
    }
    for (const action of (project.provision ?? []).filter((a) => a.uses === 'arm/deploy')) {
      expect((action as unknown as { with: { bicepCliVersion?: string } }).with.bicepCliVersion).toMatch(
        /^v\d+\.\d+\.\d+$/,
      );
    }
  });

  it('uses real built-in role definition GUIDs, each for its intended role', () => {
    const all = files.flatMap((file) => source(file).strings.filter((s) => GUID.test(s)));
    expect(all.length).toBeGreaterThanOrEqual(5);
    for (const guid of all) expect(Object.values(KNOWN_ROLES), `unknown GUID ${guid}`).toContain(guid);
    const roleVars = files.flatMap((file) =>
      of(source(file), 'var')
        .filter((d) => /RoleId$/.test(d.name))
        .map((d) => ({ name: d.name, value: source(file).strings[Number(/'§(\d+)'/.exec(d.code)?.[1])] })),
    );
    const byVar = Object.fromEntries(roleVars.map((r) => [r.name, r.value]));
    expect(byVar).toEqual({
      acrPullRoleId: KNOWN_ROLES.AcrPull,
      keyVaultSecretsUserRoleId: KNOWN_ROLES['Key Vault Secrets User'],
      monitoringReaderRoleId: KNOWN_ROLES['Monitoring Reader'],
      containerAppsContributorRoleId: KNOWN_ROLES['Container Apps Contributor'],
      openAiUserRoleId: KNOWN_ROLES['Cognitive Services OpenAI User'],
    });
  });

  it('grants Container Apps Contributor only with the actuator enabled, on the target app only', () => {
    const file = join(infra, 'modules', 'watchedResourceGroupRoles.bicep');
    const src = source(file);
    const assignment = of(src, 'resource').find((d) => d.code.includes('containerAppsContributorRoleId'));
    expect(assignment?.code).toMatch(/=\s*if\s*\(grantActuator\)/);
    expect(assignment?.code).toMatch(/scope:\s*targetApp/);
    expect(of(src, 'var').find((d) => d.name === 'grantActuator')?.code).toMatch(/enableActuator && !empty\(/);
    // Every other assignment is scoped to one resource, except Monitoring Reader on the watched resource group.
    const resourceType = (src: BicepSource, d: Declaration) =>
      src.strings[Number(/^resource\s+\w+\s+'§(\d+)'/.exec(d.code)?.[1])];
    const unscoped = files.flatMap((f) =>
      of(source(f), 'resource').filter(
        (d) =>
          resourceType(source(f), d)?.startsWith('Microsoft.Authorization/roleAssignments@') &&
          !/\n\s*scope:/.test(d.code),
      ),
    );
    expect(unscoped.map((d) => d.name)).toEqual(['monitoringReader']);
  });

  it('recognises key material', () => {
    expect(looksLikeKeyMaterial('q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c2v3b4==')).toBe(true);
    expect(looksLikeKeyMaterial('Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01')).toBe(false);
    expect(looksLikeKeyMaterial('AllowAllAzureServicesAndResourcesWithinAzureIps')).toBe(false);
  });

  it('keeps secrets out of plain text', () => {
    for (const file of files) {
      const src = source(file);
      for (const param of of(src, 'param')) {
        const info = paramInfo(param);
        // Arrays such as appSecrets hold Key Vault secret names, not values.
        if (/(password|secret|secretvalues|token|key)$/i.test(param.name) && info.type !== 'array') {
          expect(info.secure, `${relative(root, file)}: ${param.name} must be @secure()`).toBe(true);
        }
        if (info.secure && info.hasDefault) {
          expect(param.code, `${param.name} must not have a secret default`).toMatch(/=\s*('§\d+'|\{\})$/);
          const literal = /'§(\d+)'$/.exec(param.code);
          if (literal) expect(src.strings[Number(literal[1])]).toBe('');
        }
      }
      const securedNames = of(src, 'param')
        .filter((p) => paramInfo(p).secure)
        .map((p) => p.name);
      for (const output of of(src, 'output')) {
        const text = [output.code, ...src.strings].join(' ');
        for (const secured of securedNames) {
          expect(output.code.includes(secured), `output ${output.name} exposes ${secured}`).toBe(false);
        }
        expect(output.code).not.toMatch(/listKeys|ConnectionString|primarySharedKey/);
        expect(text.length).toBeGreaterThan(0);
      }
      for (const literal of src.strings) {
        expect(literal, relative(root, file)).not.toMatch(/xox[bpa]-|-----BEGIN|InstrumentationKey=|AccountKey=/);
        expect(looksLikeKeyMaterial(literal), `${relative(root, file)}: ${literal}`).toBe(false);
      }
    }
    const secureParams = new Set(
      of(main, 'param')
        .filter((p) => paramInfo(p).secure)
        .map((p) => p.name),
    );
    for (const paramFile of TEAMSFX_PARAMETER_FILES) {
      const parameters = (
        JSON.parse(read(join(infra, paramFile))) as { parameters: Record<string, { value: unknown }> }
      ).parameters;
      for (const [name, { value }] of Object.entries(parameters)) {
        if (!secureParams.has(name)) continue;
        const values = typeof value === 'object' && value !== null ? Object.values(value) : [value];
        for (const v of values) expect(v, `${paramFile}: ${name}`).toMatch(/^\$\{\{SECRET_[A-Z0-9_]+\}\}$/);
      }
    }
    // The plain files carry no secret at all (they come from a separate secrets file), the example only blanks.
    for (const paramFile of PLAIN_PARAMETER_FILES) {
      const parameters = Object.keys(
        (JSON.parse(read(join(infra, paramFile))) as { parameters: Record<string, unknown> }).parameters,
      );
      for (const name of parameters) expect(secureParams.has(name), `${paramFile} sets secure ${name}`).toBe(false);
    }
    const example = (
      JSON.parse(read(join(infra, SECRETS_EXAMPLE))) as { parameters: Record<string, { value: unknown }> }
    ).parameters;
    for (const [name, { value }] of Object.entries(example)) {
      expect(secureParams.has(name), `${SECRETS_EXAMPLE}: ${name} is not a secure parameter`).toBe(true);
      const values = typeof value === 'object' && value !== null ? Object.values(value) : [value];
      for (const v of values) expect(v, `${SECRETS_EXAMPLE}: ${name}`).toBe('');
    }
  });

  it('wires the container to the configuration names src/config reads, probes /healthz on 3978', () => {
    const configSource = read(join(root, 'src', 'config', 'config.ts'));
    const readable = new Set(
      [...configSource.matchAll(/r\.(?:read|has|raw)\(\s*'([A-Za-z_]+)'|readExistingFile\(r, '([A-Z_]+)'/g)].map(
        (m) => (m[1] ?? m[2]) as string,
      ),
    );
    const appModule = of(main, 'module').find((d) => d.name === 'app');
    if (!appModule) throw new Error('main.bicep has no app module');
    const envNames = [...appModule.code.matchAll(/\b(?:name|env):\s*'§(\d+)'/g)]
      .map((m) => main.strings[Number(m[1])] as string)
      .filter((n) => /^[A-Za-z_]+$/.test(n) && n !== 'chaos-app');
    expect(envNames).toEqual(
      expect.arrayContaining(['CHAOS_MODE', 'MicrosoftAppType', 'MicrosoftAppId', 'DATABASE_URL']),
    );
    for (const name of envNames) expect(readable, `${name} is not read by src/config/config.ts`).toContain(name);
    for (const paramFile of [...TEAMSFX_PARAMETER_FILES, SECRETS_EXAMPLE]) {
      const secrets = (
        JSON.parse(read(join(infra, paramFile))) as {
          parameters: { appSecretValues?: { value: Record<string, string> } };
        }
      ).parameters.appSecretValues?.value;
      for (const name of Object.keys(secrets ?? {})) expect(readable, `${paramFile}: ${name}`).toContain(name);
    }
    expect(main.code).toMatch(/var containerPort = 3978/);
    const containerApp = source(join(infra, 'modules', 'containerApp.bicep'));
    const healthz = containerApp.strings.filter((s) => s === '/healthz').length;
    expect(healthz).toBe(3);
    for (const type of ['Startup', 'Readiness', 'Liveness']) expect(containerApp.strings).toContain(type);
    expect(read(join(root, 'Dockerfile'))).toMatch(/^EXPOSE 3978$/m);
  });

  it('plain parameter files work with az deployment group create as they are: concrete values, no placeholders', () => {
    for (const paramFile of PLAIN_PARAMETER_FILES) {
      const text = read(join(infra, paramFile));
      expect(text, paramFile).not.toMatch(/\$\{\{|\{\{|<[a-z-]+>|REPLACE|TODO/i);
      const parameters = (JSON.parse(text) as { parameters: Record<string, { value: unknown }> }).parameters;
      // Every profile keeps its state on durable storage: PostgreSQL (the embedded store would live on the
      // replica's disk and be lost with each revision).
      expect(parameters.deployPostgres?.value, paramFile).toBe(true);
      expect(parameters.servicesSecretName?.value, paramFile).toBe('chaos-services-file');
    }
    for (const paramFile of TEAMSFX_PARAMETER_FILES) {
      expect(read(join(infra, paramFile)), paramFile).toMatch(/\$\{\{[A-Z_]+\}\}/);
      const parameters = (
        JSON.parse(read(join(infra, paramFile))) as { parameters: Record<string, { value: unknown }> }
      ).parameters;
      expect(parameters.deployPostgres?.value, paramFile).toBe(true);
    }
  });

  it('reaches PostgreSQL only from the app: private access in a delegated subnet, no firewall rule', () => {
    const postgres = source(join(infra, 'modules', 'postgres.bicep'));
    expect(postgres.strings.some((s) => s.startsWith('Microsoft.DBforPostgreSQL/flexibleServers/firewallRules'))).toBe(
      false,
    );
    const server = of(postgres, 'resource').find((d) => d.name === 'server');
    expect(server?.code).toMatch(/delegatedSubnetResourceId:\s*delegatedSubnetId/);
    expect(server?.code).toMatch(/privateDnsZoneArmResourceId:\s*privateDnsZoneId/);
    expect(server?.code).toMatch(/publicNetworkAccess:\s*'§\d+'/);
    const access = /publicNetworkAccess:\s*'§(\d+)'/.exec(server?.code ?? '');
    expect(postgres.strings[Number(access?.[1])]).toBe('Disabled');
    const network = source(join(infra, 'modules', 'network.bicep'));
    expect(network.strings).toContain('Microsoft.DBforPostgreSQL/flexibleServers');
    expect(network.strings).toContain('Microsoft.App/environments');
    const environment = source(join(infra, 'modules', 'containerAppsEnvironment.bicep'));
    expect(environment.code).toMatch(/infrastructureSubnetId:\s*infrastructureSubnetId/);
    expect(of(main, 'module').find((d) => d.name === 'containerEnvironment')?.code).toMatch(
      /infrastructureSubnetId:\s*deployPostgres \? network\.outputs\.appsSubnetId/,
    );
  });

  it('delivers the services file and the engine, status and GitHub App settings through the template', () => {
    const appModule = of(main, 'module').find((d) => d.name === 'app');
    const strings = [...(appModule?.code.matchAll(/'§(\d+)'/g) ?? [])].map((m) => main.strings[Number(m[1])]);
    for (const name of ['CHAOS_SERVICES_FILE', 'CHAOS_PUBLIC_URL', 'GITHUB_APP_ID', 'PROMETHEUS_URL']) {
      expect(strings, name).toContain(name);
    }
    // Mounted from Key Vault as a file, at the path the variable names.
    expect(of(main, 'var').find((d) => d.name === 'servicesPath')?.code).toMatch(/'§\d+'/);
    const path =
      main.strings[Number(/'§(\d+)'/.exec(of(main, 'var').find((d) => d.name === 'servicesPath')?.code ?? '')?.[1])];
    expect(path).toBe('/app/config/services.yaml');
    const containerApp = source(join(infra, 'modules', 'containerApp.bicep'));
    expect(containerApp.strings).toContain('Secret');
    expect(containerApp.strings).toContain('/app/config');
    expect(appModule?.code).toMatch(/secretFiles:/);
    // Secrets the engines and the CI need reach the app from Key Vault when set.
    const teamsfx = JSON.parse(read(join(infra, 'main.parameters.prod.teamsfx.json'))) as {
      parameters: { appSecretValues: { value: Record<string, string> } };
    };
    expect(Object.keys(teamsfx.parameters.appSecretValues.value)).toEqual(
      expect.arrayContaining([
        'CHAOS_ENGINE_WEBHOOK_TOKEN',
        'CHAOS_STATUS_TOKENS',
        'CHAOS_AUDIT_KEY',
        'GITHUB_APP_PRIVATE_KEY',
      ]),
    );
  });

  it('documents a services file that the server accepts', async () => {
    const { parseServiceDirectory } = await import('../../src/config/services.js');
    const readme = read(join(root, 'README.md'));
    const block = /<!-- services-example -->\s*```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'README has a services example').toBeDefined();
    const directory = parseServiceDirectory(block ?? '');
    expect(Object.values(directory.services).some((route) => route.engine !== 'builtin')).toBe(true);
  });
});
