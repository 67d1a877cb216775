/**
 * Work on screen not saved yet: a half-filled dispense form, an open dialog. The app reloads for
 * a new version (client/ui/service-worker.ts) only while there is none, so an update never
 * throws away what a pharmacist is typing.
 */
import { useEffect, useId } from 'react';
import { create } from 'zustand';

export const useUnsavedWork = create<{ holders: string[] }>(() => ({ holders: [] }));

export function hasUnsavedWork(): boolean {
  return useUnsavedWork.getState().holders.length > 0;
}

/** Marks this component's work unsaved while `unsaved` holds (and not after it unmounts). */
export function useMarkUnsaved(unsaved: boolean): void {
  const id = useId();
  useEffect(() => {
    if (!unsaved) return;
    useUnsavedWork.setState((s) => ({ holders: [...s.holders, id] }));
    return () => useUnsavedWork.setState((s) => ({ holders: s.holders.filter((h) => h !== id) }));
  }, [id, unsaved]);
}
