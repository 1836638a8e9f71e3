import type { RefObject } from 'react';
import { Button } from '../../components/ui';
import { useToast } from '../../lib/toast';

/**
 * Copies `text`; where the page has no clipboard (served over plain http from another host) it
 * selects the shown text instead, for Ctrl+C.
 */
export function CopyButton({
  text,
  label,
  what,
  shown,
  small,
}: {
  text: string;
  label: string;
  what: string;
  shown: RefObject<HTMLElement | null>;
  small?: boolean;
}) {
  const toast = useToast();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      toast('success', `Copied ${what}.`);
    } catch {
      if (shown.current) getSelection()?.selectAllChildren(shown.current);
      toast('error', 'Could not copy: the text is selected, press Ctrl+C (⌘C).');
    }
  };
  return (
    <Button variant="secondary" className={small ? 'px-2 py-1 text-xs' : ''} aria-label={label} onClick={() => void copy()}>
      Copy
    </Button>
  );
}
