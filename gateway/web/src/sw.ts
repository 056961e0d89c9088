// The service worker (dist/sw.js): makes the web client an installable app that opens without a network.
//
// On install it caches the app shell (the page, its script, styles, worklet, manifest and icons) under a name
// that carries a hash of those files (build.mjs fills SHELL and VERSION), and on activate drops older shells, so
// a new deployment replaces the old one as a whole. It answers from that cache:
//   - the app's own page (a navigation to the scope root or index.html, any query string): the cached page, so the
//     app opens offline and then says it is offline (main.ts watches navigator.onLine);
//   - the shell's files: cache first, the network when missing.
// Everything else goes to the network untouched and is never cached: grpc-web calls (POST), the REST API, the
// languages list, metrics, any other path.
export {};

declare const SHELL: readonly string[];
declare const VERSION: string;

// The few ServiceWorkerGlobalScope names used here (TypeScript's DOM lib does not describe that scope).
interface LifecycleEvent extends Event {
  waitUntil(work: Promise<unknown>): void;
}
interface FetchRequestEvent extends LifecycleEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface WorkerScope {
  readonly registration: { readonly scope: string };
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
  addEventListener(type: "install" | "activate", listener: (event: LifecycleEvent) => void): void;
  addEventListener(type: "fetch", listener: (event: FetchRequestEvent) => void): void;
}

const scope = self as unknown as WorkerScope;
const CACHE = `lingua-shell-${VERSION}`;
const PREFIX = "lingua-shell-";

/** The path of `url` inside the scope ("" for the scope root), or null when outside it or on another origin. */
function inScope(url: URL): string | null {
  const base = new URL(scope.registration.scope);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) return null;
  return url.pathname.slice(base.pathname.length);
}

scope.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((name) => new Request(name, { cache: "reload" }))))
      .then(() => scope.skipWaiting()),
  );
});

scope.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => scope.clients.claim()),
  );
});

scope.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // grpc-web and uploads: the network only
  const url = new URL(request.url);
  const path = inScope(url);
  if (path === null) return;
  if (request.mode === "navigate") {
    if (path !== "" && path !== "index.html") return; // /openapi.json, /metrics, …: not the app
    event.respondWith(fromCache("./", request));
    return;
  }
  if (url.search || !SHELL.includes(path)) return; // the API and anything else: never from the cache
  event.respondWith(fromCache(path, request));
});

/** The cached copy of the shell file `name`, else the network's answer for `request`. */
async function fromCache(name: string, request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  return (await cache.match(name)) ?? fetch(request);
}
