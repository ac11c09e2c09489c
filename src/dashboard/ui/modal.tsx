/** A modal dialog on the native `<dialog>`: focus moves in, Escape closes it, focus returns. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

interface ModalProps {
  label: string;
  onClose: () => void;
  children: ComponentChildren;
}

/**
 * Shows `children` in a modal dialog while mounted.
 *
 * @example
 * {open && <Modal label="Delete" onClose={() => setOpen(false)}>…</Modal>}
 */
export function Modal({ label, onClose, children }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    dialog.showModal();
    return () => {
      dialog.close();
      opener?.focus();
    };
  }, []);
  return (
    <dialog ref={ref} aria-label={label} onCancel={(e) => (e.preventDefault(), onClose())}>
      {children}
    </dialog>
  );
}

interface ConfirmProps {
  title: string;
  message: string;
  action: string;
  onAnswer: (confirmed: boolean) => void;
}

/** A yes/no question; the safe answer has the focus. */
export function Confirm({ title, message, action, onAnswer }: ConfirmProps) {
  return (
    <Modal label={title} onClose={() => onAnswer(false)}>
      <h2>{title}</h2>
      <p>{message}</p>
      <div class="buttons">
        <button type="button" class="danger" onClick={() => onAnswer(true)}>
          {action}
        </button>
        <button type="button" autofocus onClick={() => onAnswer(false)}>
          Cancel
        </button>
      </div>
    </Modal>
  );
}
