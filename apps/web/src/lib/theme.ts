import { useSyncExternalStore } from 'react';

const subscribe = (onChange: () => void) => {
  const observer = new MutationObserver(onChange);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['class'] });
  return () => observer.disconnect();
};

/** Whether the dark theme is on (the `dark` class on <html>), following every toggle. */
export const useDark = (): boolean => useSyncExternalStore(subscribe, () => document.documentElement.classList.contains('dark'));
