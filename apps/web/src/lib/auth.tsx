import { type ReactNode, createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { api, refreshSession, setAccessToken, whenSignedOut } from './api';
import { realtime } from './realtime';

export interface Me {
  user: { id: string; name: string; email: string } | null;
  organization: { id: string; name: string; plan?: string } | null;
  role: string | null;
}

interface Auth {
  me: Me | null;
  /** false until the first session check has finished. */
  ready: boolean;
  signIn: (email: string, password: string) => Promise<void>;
  signUp: (name: string, email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
  /** Makes another of the user's organizations the active one (after accepting an invitation). */
  switchOrg: (organizationId: string) => Promise<void>;
  /** The signed-in role holds at least this one. */
  atLeast: (role: 'viewer' | 'editor' | 'admin' | 'owner') => boolean;
  /** Whether the signed-in role may write (editor or higher). */
  canEdit: boolean;
}

const AuthContext = createContext<Auth | null>(null);

const RANK: Record<string, number> = { viewer: 1, editor: 2, admin: 3, owner: 4 };

export function AuthProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [ready, setReady] = useState(false);
  const load = useCallback(async () => setMe((await api<{ data: Me }>('GET', '/me')).data), []);

  useEffect(() => {
    whenSignedOut(() => {
      realtime().close();
      setMe(null);
    });
    void (async () => {
      try {
        if (await refreshSession()) await load();
      } finally {
        setReady(true);
      }
    })();
  }, [load]);

  const value = useMemo<Auth>(
    () => ({
      me,
      ready,
      canEdit: (RANK[me?.role ?? ''] ?? 0) >= RANK.editor!,
      atLeast: (role) => (RANK[me?.role ?? ''] ?? 0) >= RANK[role]!,
      switchOrg: async (organizationId) => {
        const r = await api<{ data: { accessToken: string } }>('POST', '/auth/switch', { organizationId });
        // The socket belongs to the old organization: closed first, so the new token opens a new one
        // (every live screen reloads once it is subscribed again).
        realtime().close();
        setAccessToken(r.data.accessToken);
        await load();
      },
      signIn: async (email, password) => {
        const r = await api<{ data: { accessToken: string } }>('POST', '/auth/login', { email, password });
        setAccessToken(r.data.accessToken);
        await load();
      },
      signUp: async (name, email, password) => {
        const r = await api<{ data: { accessToken: string } }>('POST', '/auth/signup', { name, email, password });
        setAccessToken(r.data.accessToken);
        await load();
      },
      signOut: async () => {
        await api('POST', '/auth/logout').catch(() => undefined);
        realtime().close();
        setAccessToken(null);
        setMe(null);
      },
    }),
    [me, ready, load],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error('useAuth outside AuthProvider');
  return a;
}
