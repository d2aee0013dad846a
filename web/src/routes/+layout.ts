// A single-page app: the binary serves index.html for every route and the client renders it.
export const ssr = false;
export const prerender = false;
export const trailingSlash = 'never';
