import { createContext, useContext } from 'react';
import { FerryClient } from '../../src/sdk/client.ts';

// The key stays in this browser only; the server never hands keys to the page.
const STORAGE_KEY = 'ferry.apiKey';

export function storedKey(): string | null {
  return localStorage.getItem(STORAGE_KEY);
}

export function storeKey(key: string): void {
  localStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey(): void {
  localStorage.removeItem(STORAGE_KEY);
}

/** A client for the server that served this page, carrying the user's key. */
export function clientFor(key: string): FerryClient {
  return new FerryClient(window.location.origin, key);
}

export const ClientContext = createContext<FerryClient | null>(null);

/** The signed-in user's client; pages render only inside a signed-in shell. */
export function useClient(): FerryClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useClient outside a signed-in shell');
  return client;
}
