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
 * A resident whose account was verified by certificate login (My Number card) is linked
 * without a card when a call needs a link (rk_library_patron_link_certificate, used by
 * PlaceHold): the library's VerifyPatron with CERTIFICATE.
 */
#ifndef RK_LIBRARY_PATRON_H
#define RK_LIBRARY_PATRON_H

#include "library/library.h"

/** Prepares the statements and adds the three methods. */
void rk_library_patron_register(rk_library_t *library, rk_router_t *router);

/** A certificate link ended: NULL (linked), or the LibraryError it failed with. */
typedef void (*rk_library_linked_cb)(const char *refusal, void *arg);

/**
 * Links the card of a resident who logged in with the certificate (My Number card) at library
 * (a slug or code) without a card or PIN: the library's VerifyPatron with CERTIFICATE finds or
 * issues the patron of the resident's pairwise id (key: one per account and library), kept as
 * a link of method certificate. done is called once, in rpc's life, and rpc is left to the
 * caller — unless the link could not even be asked for (the store failed, the grant is gone,
 * the library has no patrons adapter): then rpc is answered so and done is not called.
 */
void rk_library_patron_link_certificate(rk_rpc_t *rpc, const rk_identity_resident_t *resident,
                                        const char *library, rk_library_linked_cb done, void *arg);

#endif
