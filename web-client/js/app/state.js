/*
 * state.js - what the parts of the venue page share: the connection, the
 * panels, the view that is shown, my room's scene model, and one avatar
 * object per person that the views read each frame. Whatever only one part
 * needs stays in that part's module.
 */

export const state = {
    client: null, /* the VenueClient, from the join screen on */
    panels: null, /* the Panels, once in the venue */
    view: null, /* the View3D or Map2D shown now */
    viewKind: '3d',
    reducedMotion: false,
    model: null, /* the scene model of my room */
    avatars: new Map(), /* id -> avatar object (people.js) */
    list: [], /* the avatars the views draw, in an array they walk */
    listChanged: true,
    me: null, /* my avatar object */
    stageOffset: null, /* overflow room: hall's stage to this room's stage (stage.js) */
    sim: null, /* the ?simulate crowd, when asked for (dev.js): {motion, owns(id), joined()} */
};

/* A room's name for people to read; its id while the rooms list does not have it. */
export function roomName(id) {
    return state.client.rooms.find((r) => r.id === id)?.name || id;
}

/*
 * The live session on my room's stage: my room's own, or in an overflow
 * room its hall's (whose slides, captions and questions it gets); null.
 */
export function stageSession() {
    const client = state.client;
    return client.liveSession() || (client.stage ? client.liveSession(client.stage.hall) : null);
}
