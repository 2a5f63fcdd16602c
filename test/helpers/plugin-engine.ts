import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

/**
 * Plays the Pulumi engine for the package's provider plugin (the Pulumi CLI cannot run
 * here): an in-process engine and resource monitor over gRPC, built from the stubs
 * @pulumi/pulumi ships, and the plugin spawned the way Pulumi's Node language host runs a
 * source plugin: `node @pulumi/pulumi/cmd/run-plugin <plugin dir> <engine address>`, its
 * port read from the first stdout line. Requests and replies are plain JSON; the plugin
 * side is the real one.
 */

type Json = Record<string, unknown>;
type Msg = Record<string, (...a: unknown[]) => unknown>;
type Cb = (e: Error | null, r: Msg) => void;
type Client = Record<string, (req: unknown, opts: { deadline: number }, cb: Cb) => void> & { close(): void };
interface GrpcServer {
  addService(def: unknown, impl: Record<string, unknown>): void;
  bindAsync(addr: string, creds: unknown, cb: (e: Error | null, port: number) => void): void;
  forceShutdown(): void;
}

export interface Registration {
  type: string;
  name: string;
  parent: string;
  custom: boolean;
  object: Json;
}

const STACK = "dev";
const PROJECT = "kpv-test";
export const urnOf = (type: string, name: string, parentType?: string): string =>
  `urn:pulumi:${STACK}::${PROJECT}::${parentType ? `${parentType}$` : ""}${type}::${name}`;

export class PluginEngine {
  /** what the plugin registered with the resource monitor (Construct) */
  readonly registered: Registration[] = [];
  /** what the plugin logged to the engine */
  readonly logs: { severity: number; message: string; urn: string }[] = [];
  stderr = "";
  private child?: ChildProcess;
  private servers: GrpcServer[] = [];
  private client?: Client;
  private pb!: Record<string, new () => Msg>;
  private Struct!: { fromJavaScript(v: unknown): Msg };
  private monitorAddr = "";

  /** Starts the fake engine and monitor, then the plugin in `pluginDir` (a package directory), run in `cwd`. */
  async start(pluginDir: string, env: NodeJS.ProcessEnv = process.env, cwd: string = pluginDir): Promise<void> {
    const pulumiDir = path.dirname(createRequire(path.join(pluginDir, "package.json")).resolve("@pulumi/pulumi/package.json"));
    const req = createRequire(path.join(pulumiDir, "package.json"));
    const grpc = req("@grpc/grpc-js") as {
      Server: new () => GrpcServer;
      ServerCredentials: { createInsecure(): unknown };
      credentials: { createInsecure(): unknown };
    };
    const engineRpc = req("./proto/engine_grpc_pb") as { EngineService: Record<string, { responseType: new () => Msg }> };
    const monitorRpc = req("./proto/resource_grpc_pb") as { ResourceMonitorService: Record<string, { responseType: new () => Msg }> };
    const providerRpc = req("./proto/provider_grpc_pb") as { ResourceProviderClient: new (addr: string, creds: unknown) => Client };
    this.pb = req("./proto/provider_pb") as Record<string, new () => Msg>;
    this.Struct = (req("google-protobuf/google/protobuf/struct_pb") as { Struct: { fromJavaScript(v: unknown): Msg } }).Struct;
    const Struct = this.Struct;
    const bind = (server: GrpcServer) =>
      new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
      );

    // the engine: logs are recorded, everything else answers empty
    const engine = new grpc.Server();
    const engineImpl: Record<string, unknown> = {};
    for (const [name, def] of Object.entries(engineRpc.EngineService))
      engineImpl[name] = (call: { request: Msg }, cb: (e: null, r: unknown) => void) => {
        if (name === "log")
          this.logs.push({
            severity: call.request.getSeverity() as number,
            message: call.request.getMessage() as string,
            urn: call.request.getUrn() as string,
          });
        cb(null, new def.responseType());
      };
    engine.addService(engineRpc.EngineService, engineImpl);
    const enginePort = await bind(engine);

    // the resource monitor: registrations are recorded; custom resources get no outputs (a preview)
    const monitor = new grpc.Server();
    const m = monitorRpc.ResourceMonitorService;
    const types = new Map<string, string>();
    const monitorImpl: Record<string, unknown> = {
      supportsFeature: (call: { request: Msg }, cb: (e: null, r: unknown) => void) => {
        const r = new m.supportsFeature.responseType();
        r.setHassupport(
          ["secrets", "resourceReferences", "outputValues", "aliasSpecs", "deletedWith"].includes(call.request.getId() as string),
        );
        cb(null, r);
      },
      registerResource: (call: { request: Msg }, cb: (e: null, r: unknown) => void) => {
        const q = call.request;
        const type = q.getType() as string;
        const name = q.getName() as string;
        const parent = q.getParent() as string;
        const object = ((q.getObject() as Msg | undefined)?.toJavaScript() ?? {}) as Json;
        this.registered.push({ type, name, parent, custom: q.getCustom() as boolean, object });
        const urn = urnOf(type, name, parent ? types.get(parent) : undefined);
        types.set(urn, (parent ? `${types.get(parent)}$` : "") + type);
        const r = new m.registerResource.responseType();
        r.setUrn(urn);
        r.setObject(Struct.fromJavaScript({}));
        cb(null, r);
      },
      registerResourceOutputs: (_c: unknown, cb: (e: null, r: unknown) => void) => cb(null, new m.registerResourceOutputs.responseType()),
    };
    for (const [name, def] of Object.entries(m))
      monitorImpl[name] ??= (_c: unknown, cb: (e: Error | null, r?: unknown) => void) =>
        name === "registerPackage" ? cb(null, new def.responseType()) : cb(new Error(`the test monitor does not implement ${name}`));
    monitor.addService(m, monitorImpl);
    this.monitorAddr = `127.0.0.1:${await bind(monitor)}`;
    this.servers.push(engine, monitor);

    const runPlugin = path.join(pulumiDir, "cmd", "run-plugin");
    const child = spawn(process.execPath, [runPlugin, pluginDir, `127.0.0.1:${enginePort}`], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    let stdout = "";
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the plugin printed no port within 60 s\n${this.stderr}`)), 60_000);
      child.stdout!.on("data", (d: Buffer) => {
        stdout += d.toString();
        const line = /^(.*)\n/.exec(stdout);
        if (!line) return;
        clearTimeout(timer);
        if (/^\d+$/.test(line[1].trim())) resolve(Number(line[1].trim()));
        else reject(new Error(`the plugin's first stdout line is not a port: ${JSON.stringify(line[1])}\n${this.stderr}`));
      });
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the plugin exited (${code ?? signal}) before printing its port\n${this.stderr}`));
      });
    });
    this.client = new providerRpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null;
  }

  stop(): void {
    this.client?.close();
    if (this.child && this.child.exitCode === null) this.child.kill("SIGKILL");
    for (const s of this.servers) s.forceShutdown();
  }

  private rpc(method: string, request: Msg): Promise<Msg> {
    return new Promise((resolve, reject) =>
      this.client![method](request, { deadline: Date.now() + 180_000 }, (e, r) =>
        e ? reject(new Error(`${method}: ${(e as { details?: string }).details ?? e.message}`)) : resolve(r),
      ),
    );
  }

  private request(type: string, fields: Record<string, unknown>): Msg {
    const r = new this.pb[type]();
    for (const [k, v] of Object.entries(fields)) {
      const value = v !== null && typeof v === "object" && !Array.isArray(v) ? this.Struct.fromJavaScript(v) : v;
      r[`set${k}`](value);
    }
    return r;
  }

  private static js(s: unknown): Json {
    return ((s as Msg | undefined)?.toJavaScript() ?? {}) as Json;
  }

  async getSchema(): Promise<Json> {
    const r = await this.rpc("getSchema", this.request("GetSchemaRequest", {}));
    return JSON.parse(r.getSchema() as string) as Json;
  }

  async check(urn: string, olds: Json, news: Json): Promise<{ inputs: Json; failures: { property: string; reason: string }[] }> {
    const r = await this.rpc("check", this.request("CheckRequest", { Urn: urn, Olds: olds, News: news }));
    return {
      inputs: PluginEngine.js(r.getInputs()),
      failures: (r.getFailuresList() as Msg[]).map((f) => ({ property: f.getProperty() as string, reason: f.getReason() as string })),
    };
  }

  /** changes: "none", "some" or "unknown" */
  async diff(
    id: string,
    urn: string,
    olds: Json,
    news: Json,
  ): Promise<{ changes: string; replaces: string[]; deleteBeforeReplace: boolean }> {
    const r = await this.rpc("diff", this.request("DiffRequest", { Id: id, Urn: urn, Olds: olds, News: news }));
    return {
      changes: ["unknown", "none", "some"][r.getChanges() as number],
      replaces: r.getReplacesList() as string[],
      deleteBeforeReplace: r.getDeletebeforereplace() as boolean,
    };
  }

  async create(urn: string, properties: Json, preview = false): Promise<{ id: string; properties: Json }> {
    const r = await this.rpc("create", this.request("CreateRequest", { Urn: urn, Properties: properties, Preview: preview }));
    return { id: r.getId() as string, properties: PluginEngine.js(r.getProperties()) };
  }

  async read(id: string, urn: string, properties: Json = {}): Promise<{ id: string; properties: Json; inputs: Json }> {
    const r = await this.rpc("read", this.request("ReadRequest", { Id: id, Urn: urn, Properties: properties }));
    return { id: r.getId() as string, properties: PluginEngine.js(r.getProperties()), inputs: PluginEngine.js(r.getInputs()) };
  }

  async update(id: string, urn: string, olds: Json, news: Json): Promise<{ properties: Json }> {
    const r = await this.rpc("update", this.request("UpdateRequest", { Id: id, Urn: urn, Olds: olds, News: news }));
    return { properties: PluginEngine.js(r.getProperties()) };
  }

  async delete(id: string, urn: string, properties: Json): Promise<void> {
    await this.rpc("delete", this.request("DeleteRequest", { Id: id, Urn: urn, Properties: properties }));
  }

  /** Construct a component as a multi-language program asks for it (a preview: dry run). */
  async construct(type: string, name: string, inputs: Json, dryrun = true): Promise<{ urn: string; state: Json }> {
    const r = await this.rpc(
      "construct",
      this.request("ConstructRequest", {
        Project: PROJECT,
        Stack: STACK,
        Dryrun: dryrun,
        Parallel: 4,
        Monitorendpoint: this.monitorAddr,
        Type: type,
        Name: name,
        Inputs: inputs,
        AcceptsOutputValues: true,
      }),
    );
    return { urn: r.getUrn() as string, state: PluginEngine.js(r.getState()) };
  }
}
