/*
 * patron.h — the resident's library cards: LibraryService.LinkPatron, UnlinkPatron and
 * ListMyPatronLinks (rk_library_patron, migration 0014). A resident's token is required.
 *
 * LinkPatron sends the card number and PIN once to the library's adapter (VerifyPatron, the
 * first active adapter of the municipality with ADAPTER_CAPABILITY_LIBRARY_PATRONS) and stores
 * only what it answers: its opaque patron id, the masked card number, expiry and limits. The
 * card number and PIN are never logged or stored. The owner's idempotency key is a digest of
 * the account, library, client key, card and PIN, so a retry of the same request is answered
 * once by the owner and another card under the same client key is verified afresh; linking
 * again replaces the link. A wrong card or PIN is PERMISSION_DENIED, LIBRARY_ERROR_PATRON_REJECTED.
 * UnlinkPatron removes the link (holds already placed keep their patron id); it is idempotent.
 * ListMyPatronLinks lists the account's links by municipality code.
 *
 * Not yet: certificate-login residents linked automatically (VerifyPatron with CERTIFICATE);
 * PlaceHold answers LIBRARY_ERROR_PATRON_NOT_LINKED for them too.
 */
#ifndef RK_LIBRARY_PATRON_H
#define RK_LIBRARY_PATRON_H

#include "library/library.h"

/** Prepares the statements and adds the three methods. */
void rk_library_patron_register(rk_library_t *library, rk_router_t *router);

#endif
