/** A native modal dialog: focus moves in and stays there, Escape closes, the page behind is inert. */
import { useEffect, useRef, type ReactNode } from 'react';
import { useMarkUnsaved } from '../stores/unsaved-work';

interface Props {
  title: string;
  titleId: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}

export function Modal({ title, titleId, onClose, children, wide }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  useMarkUnsaved(true); // an open dialog holds off a reload for a new version
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className={wide ? 'modal wide' : 'modal'}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}
