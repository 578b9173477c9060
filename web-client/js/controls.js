/*
 * controls.js - turns keys, mouse, touch and on-screen buttons into one
 * movement intent per frame, for whichever view is shown.
 *
 * Owns the input listeners on the view element and on window. Keys move
 * only while the view (or nothing in particular) has focus, so typing in
 * chat or using arrow keys in the tab list never walks the avatar.
 *   W / Up: forward     S / Down: back      A / D: step sideways
 *   Q / E, Left / Right: turn               Shift: walk faster
 * Dragging on the view turns; a click or tap without dragging asks the
 * view where the floor is and walks there.
 */

const KEYMAP = {
    KeyW: 'forward', ArrowUp: 'forward',
    KeyS: 'back', ArrowDown: 'back',
    KeyA: 'left', KeyD: 'right',
    KeyQ: 'turn-left', ArrowLeft: 'turn-left',
    KeyE: 'turn-right', ArrowRight: 'turn-right',
};

const DRAG_THRESHOLD_PX = 6;
const DRAG_RAD_PER_PX = 0.006;

/*
 * Whether a key pressed on target is for the view: the view (or something
 * in it) has focus, or nothing in particular does. Never a field, a button
 * or a list, so typing in chat never walks, and Space on a button presses it.
 */
export function keyForView(view, target) {
    if (!target || target === document.body || target === document.documentElement) return true;
    return view.contains(target);
}

export class Controls {
    /*
     * view: the focusable element that holds the canvas.
     * onTap(clientX, clientY): a click or tap that was not a drag.
     */
    constructor(view, touchPad, onTap) {
        this.view = view;
        this.onTap = onTap;
        this.held = new Set(); /* action names currently held */
        this.run = false;
        this.dragYaw = 0; /* radians turned by dragging since the last read */
        this.enabled = true;
        this._drag = null;

        window.addEventListener('keydown', (ev) => this._key(ev, true));
        window.addEventListener('keyup', (ev) => this._key(ev, false));
        window.addEventListener('blur', () => this.releaseAll());
        document.addEventListener('visibilitychange', () => this.releaseAll());

        view.addEventListener('pointerdown', (ev) => this._down(ev));
        view.addEventListener('pointermove', (ev) => this._move(ev));
        view.addEventListener('pointerup', (ev) => this._up(ev));
        view.addEventListener('pointercancel', () => this._cancel());
        view.addEventListener('contextmenu', (ev) => ev.preventDefault());

        for (const b of touchPad.querySelectorAll('button[data-move]')) {
            const action = b.dataset.move;
            const on = (ev) => {
                ev.preventDefault();
                try {
                    b.setPointerCapture(ev.pointerId); /* keep it held if the finger slides */
                } catch {
                    /* not capturable (synthetic event): fine */
                }
                b.classList.add('held');
                this.held.add(action);
            };
            const off = () => {
                b.classList.remove('held');
                this.held.delete(action);
            };
            b.addEventListener('pointerdown', on);
            b.addEventListener('pointerup', off);
            b.addEventListener('pointercancel', off);
            b.addEventListener('lostpointercapture', off);
            b.addEventListener('contextmenu', (ev) => ev.preventDefault());
        }
    }

    /* Keys act when the view or the page itself has focus, not a field. */
    _ours(target) {
        return this.enabled && keyForView(this.view, target);
    }

    _key(ev, down) {
        if (ev.key === 'Shift') this.run = down;
        const action = KEYMAP[ev.code];
        if (!action) return;
        if (!down) {
            this.held.delete(action);
            return;
        }
        if (!this._ours(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
        ev.preventDefault(); /* no page scrolling on arrows */
        this.held.add(action);
    }

    releaseAll() {
        this.held.clear();
        this.run = false;
        this._drag = null;
        this.view.classList.remove('dragging');
    }

    _down(ev) {
        if (ev.button !== 0 && ev.pointerType === 'mouse') return;
        this._drag = { id: ev.pointerId, x0: ev.clientX, y0: ev.clientY, x: ev.clientX, moved: false };
        try {
            this.view.setPointerCapture(ev.pointerId);
        } catch {
            /* not capturable: dragging still works inside the view */
        }
    }

    _move(ev) {
        const d = this._drag;
        if (!d || d.id !== ev.pointerId) return;
        if (!d.moved && Math.hypot(ev.clientX - d.x0, ev.clientY - d.y0) > DRAG_THRESHOLD_PX) {
            d.moved = true;
            this.view.classList.add('dragging');
        }
        if (d.moved) {
            this.dragYaw -= (ev.clientX - d.x) * DRAG_RAD_PER_PX;
            d.x = ev.clientX;
        }
    }

    _up(ev) {
        const d = this._drag;
        if (!d || d.id !== ev.pointerId) return;
        this._drag = null;
        this.view.classList.remove('dragging');
        if (!d.moved) this.onTap(ev.clientX, ev.clientY);
    }

    _cancel() {
        this._drag = null;
        this.view.classList.remove('dragging');
    }

    /*
     * The intent for this frame: forward and strafe in [-1, 1], turn in
     * [-1, 1] (positive: to the left), plus the yaw dragged since the last
     * call. keyUsed says a key or button is moving us (cancels walk-to).
     */
    read(out) {
        const h = this.held;
        out.forward = (h.has('forward') ? 1 : 0) - (h.has('back') ? 1 : 0);
        out.strafe = (h.has('right') ? 1 : 0) - (h.has('left') ? 1 : 0);
        out.turn = (h.has('turn-left') ? 1 : 0) - (h.has('turn-right') ? 1 : 0);
        out.run = this.run;
        out.dragYaw = this.dragYaw;
        this.dragYaw = 0;
        out.keyUsed = out.forward !== 0 || out.strafe !== 0 || out.turn !== 0;
        return out;
    }
}
