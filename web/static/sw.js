// Tapearr's service worker: makes the app installable and lets the shell open offline.
// Hashed build files (/_app/immutable/) are cached forever; pages go to the network first and
// fall back to the cached shell; the API and the WebSocket are never cached.
const CACHE = 'tapearr-shell-v1';
const scope = new URL(self.registration.scope);
const base = scope.pathname.replace(/\/$/, '');
const SHELL = `${base}/`;

self.addEventListener('install', (event) => {
	event.waitUntil(
		caches
			.open(CACHE)
			.then((c) => c.addAll([SHELL, `${base}/manifest.webmanifest`, `${base}/icons/icon.svg`]))
			.catch(() => undefined)
			.then(() => self.skipWaiting())
	);
});

self.addEventListener('activate', (event) => {
	event.waitUntil(
		caches
			.keys()
			.then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
			.then(() => self.clients.claim())
	);
});

self.addEventListener('fetch', (event) => {
	const req = event.request;
	if (req.method !== 'GET') return;
	const url = new URL(req.url);
	if (url.origin !== location.origin || !url.pathname.startsWith(`${base}/`)) return;
	const path = url.pathname.slice(base.length);
	if (path.startsWith('/api/') || path === '/healthz' || path === '/readyz' || path === '/metrics') return;

	if (path.startsWith('/_app/immutable/')) {
		event.respondWith(
			caches.open(CACHE).then(async (c) => {
				const hit = await c.match(req);
				if (hit) return hit;
				const res = await fetch(req);
				if (res.ok) c.put(req, res.clone());
				return res;
			})
		);
		return;
	}

	if (req.mode === 'navigate') {
		event.respondWith(
			fetch(req)
				.then((res) => {
					if (res.ok) caches.open(CACHE).then((c) => c.put(SHELL, res.clone()));
					return res;
				})
				.catch(async () => (await caches.match(SHELL)) ?? Response.error())
		);
	}
});

// Web Push: the server sends {id, title, body}; show it, and open the app when it is clicked.
self.addEventListener('push', (event) => {
	let data = {};
	try {
		data = event.data ? event.data.json() : {};
	} catch {
		data = { body: event.data ? event.data.text() : '' };
	}
	event.waitUntil(
		self.registration.showNotification(data.title || 'Tapearr', {
			body: data.body || '',
			tag: data.id,
			icon: `${base}/icons/icon-192.png`
		})
	);
});

self.addEventListener('notificationclick', (event) => {
	event.notification.close();
	event.waitUntil(
		self.clients.matchAll({ type: 'window' }).then((list) => {
			const open = list.find((c) => c.url.startsWith(scope.href));
			return open ? open.focus() : self.clients.openWindow(`${base}/`);
		})
	);
});
