/*
 * cert_login_sign.h — `renkeictl cert-login-sign`, the resident's signing tool for certificate
 * login (hub/identity/cert_login.h). renkeictl's main() dispatches to it; it needs no hub.
 */
#ifndef RK_CTL_CERT_LOGIN_SIGN_H
#define RK_CTL_CERT_LOGIN_SIGN_H

/**
 * Runs the command with the options that follow its name (argv[0] is the first option).
 * Prints the response on stdout, or the problem on stderr naming the option or file. Returns
 * the exit status: 0 signed, 1 a file or the signing failed, 2 usage.
 */
int rk_ctl_cert_login_sign(int argc, char **argv);

#endif
