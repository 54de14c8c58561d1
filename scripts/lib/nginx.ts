/** nginx with `hash $http_cf_connecting_ip consistent` in front of loopback origins. */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { tempDir } from "./cleanup.ts";
import { freePort, spawnProxy, type OriginAddress, type RunningProxy } from "./proxy-process.ts";

export interface NginxOptions {
  readonly origins: readonly OriginAddress[];
  /** Appended to every upstream `server` line (e.g. "max_fails=0"). */
  readonly serverParams?: string;
  /** Extra `location /` lines. */
  readonly location?: readonly string[];
}

/** nginx with `hash $http_cf_connecting_ip consistent` in front of `origins`. */
export async function startNginx(options: NginxOptions): Promise<RunningProxy> {
  const dir = tempDir("nginx");
  const port = await freePort();
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${dir}/${t};`);
  const params = options.serverParams ? ` ${options.serverParams}` : "";
  const config = `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
${temps.join("\n")}
  upstream origins {
    hash $http_cf_connecting_ip consistent;
${options.origins.map((o) => `    server 127.0.0.1:${o.port}${params};`).join("\n")}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origins;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
${(options.location ?? []).map((line) => `      ${line}\n`).join("")}    }
  }
}
`;
  writeFileSync(path.join(dir, "nginx.conf"), config);
  const argv = ["-p", dir, "-e", `${dir}/error.log`, "-c", `${dir}/nginx.conf`, "-g", "daemon off;"];
  const stop = await spawnProxy("nginx", "nginx", argv, port);
  return { url: new URL(`http://127.0.0.1:${port}/`), config, statsSocket: null, stop };
}
