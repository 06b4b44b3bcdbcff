/* Signs the API calls of "Try it out" the way the API contract says, in the browser.
 *
 * The string to sign is timestamp, nonce, METHOD, path?query and the hex SHA-256 of the body,
 * joined by "\n"; X-Signature is its lower-case hex HMAC-SHA256 under the key's secret. The key id
 * and secret are typed into the page and kept in this tab's sessionStorage only.
 *
 * Swagger UI's requestInterceptor may answer a Promise: the bundle is wrapped so that whatever
 * interceptor the page configures runs first, then the request is signed.
 */
"use strict";

(() => {
  const API_PREFIX = "/api/v1/";
  const UNSIGNED_PATHS = new Set(["/api/v1/health"]);
  const encoder = new TextEncoder();

  const field = (id) => document.getElementById(id);
  const stored = (name) => sessionStorage.getItem(name) || "";

  const hex = (buffer) =>
    Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");

  const nonce = () => {
    const bytes = crypto.getRandomValues(new Uint8Array(18));
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
  };

  const bodyText = (body) => (body === undefined || body === null ? "" : String(body));

  async function sign(request) {
    const keyId = field("qv-key-id").value.trim();
    const secret = field("qv-secret").value;
    const url = new URL(request.url, document.baseURI);
    if (!url.pathname.startsWith(API_PREFIX) || UNSIGNED_PATHS.has(url.pathname)) {
      return request;
    }
    if (!keyId || !secret) {
      setState("Type a key id and secret to sign requests.");
      return request;
    }
    if (!window.crypto || !crypto.subtle) {
      setState("This page needs HTTPS (or localhost) to sign: the browser offers no WebCrypto.");
      return request;
    }
    const timestamp = String(Math.floor(Date.now() / 1000));
    const once = nonce();
    const bodyHash = hex(await crypto.subtle.digest("SHA-256", encoder.encode(bodyText(request.body))));
    const message = [timestamp, once, (request.method || "GET").toUpperCase(), url.pathname + url.search, bodyHash].join("\n");
    const key = await crypto.subtle.importKey(
      "raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]
    );
    const signature = hex(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
    request.headers = Object.assign({}, request.headers, {
      "X-Api-Key": keyId,
      "X-Timestamp": timestamp,
      "X-Nonce": once,
      "X-Signature": signature,
    });
    setState("Signed with " + keyId + ".");
    return request;
  }

  function setState(text) {
    const state = field("qv-signing-state");
    if (state) state.textContent = text;
  }

  function remember(id) {
    const input = field(id);
    input.value = stored(id);
    input.addEventListener("input", () => sessionStorage.setItem(id, input.value));
  }

  remember("qv-key-id");
  remember("qv-secret");

  const original = window.SwaggerUIBundle;
  window.SwaggerUIBundle = Object.assign(function signingSwaggerUIBundle(config) {
    const inner = config.requestInterceptor || ((request) => request);
    config.requestInterceptor = async (request, ...rest) => sign(await inner(request, ...rest));
    return original(config);
  }, original);
})();
