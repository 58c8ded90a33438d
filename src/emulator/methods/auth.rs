//! Signing in and out (docs/protocol.md §2): the pre-login settings, the RSA key exchange, `login`
//! landing on the user's last-used site unless `siteUrlName` says otherwise, `switchSite`
//! with cookie rotation, `getSessionInfo` and `logout`.

use serde_json::{Value, json};

use super::{Call, Failure, Outcome, Reply, params, session_user};
use crate::emulator::entities::{Id, Site, User};
use crate::emulator::sessions::Issued;
use crate::emulator::state::ServerState;
use crate::emulator::timestamp;
use crate::wire::{SESSION_COOKIE, XSRF_COOKIE, code};

/// What Tableau's Java client requires before it logs in (docs/protocol.md §8).
pub(super) fn server_settings(_: &mut ServerState, _: &Call) -> Outcome {
    Ok(Reply::ok(json!({
        "authenticationType": { "type": "LOCAL", "authAPI": "vizportal" },
        "customization": {
            "serverName": "Vizportal emulator",
            "useCustomLogo": false,
            "customLogoPath": "",
            "customLogoWidth": 0,
            "customLogoHeight": 0,
            "customLogoLink": "",
        },
        "defaultLanguage": "en",
        "defaultLocale": "en_US",
        "guestEnabled": false,
        "product": "Tableau Server",
        "domainFamily": "local",
        "licenseExpirationDate": "2099-12-31T00:00:00.000Z",
        "preloginCustomization": { "signInImage": "", "signInMessage": "" },
        "wgEnabled": true,
    })))
}

pub(super) fn generate_public_key(state: &mut ServerState, call: &Call) -> Outcome {
    let (key_id, n, e) = state.keys.issue(call.instant);
    Ok(Reply::ok(
        json!({ "keyId": key_id, "key": { "n": n, "e": e } }),
    ))
}

fn bad_credentials(message: &str) -> Failure {
    Failure::http(401, code::BAD_CREDENTIALS, message)
}

pub(super) fn login(state: &mut ServerState, call: &Call) -> Outcome {
    let username = params::text(call.params, "username")?;
    let ciphertext = params::text(call.params, "encryptedPassword")?;
    let key_id = params::text(call.params, "keyId")?;
    let requested_site = params::opt_text(call.params, "siteUrlName")?;
    if !state.keys.redeem(key_id, call.instant) {
        return Err(bad_credentials(
            "the keyId is unknown, expired or already used; call generatePublicKey first",
        ));
    }
    let plaintext = state.keys.decrypt(ciphertext);
    let user = state
        .data
        .user_by_name(username)
        .filter(|u| !u.password.is_empty() && plaintext.as_deref() == Some(u.password.as_bytes()))
        .ok_or_else(|| bad_credentials("invalid username or password"))?;
    let site = landing_site(state, user, requested_site)?;
    let user_id = user.id;
    let issued = state
        .sessions
        .open(user_id, site, call.instant, call.limits.session_ttl);
    if let Some(user) = state.data.users.get_mut(&user_id) {
        user.last_site_id = Some(site);
        user.last_sign_in = Some(timestamp::utc(call.now));
    }
    signed_in(state, user_id, site, call, issued)
}

/// The site a login lands on: the one asked for, else the user's last-used site, else the
/// first site the user reaches.
fn landing_site(state: &ServerState, user: &User, requested: Option<&str>) -> Result<Id, Failure> {
    let data = &state.data;
    if let Some(url_name) = requested {
        return data
            .site_by_url(url_name)
            .filter(|site| user.site_role(site.id).is_some())
            .map(|site| site.id)
            .ok_or_else(|| {
                bad_credentials(&format!(
                    "no site \"{url_name}\" that this user can sign in to"
                ))
            });
    }
    user.last_site_id
        .filter(|site| data.sites.contains_key(site) && user.site_role(*site).is_some())
        .or_else(|| {
            data.sites
                .keys()
                .copied()
                .find(|site| user.site_role(*site).is_some())
        })
        .ok_or_else(|| bad_credentials("the user is not a member of any site"))
}

pub(super) fn switch_site(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    let url_name = params::text(call.params, "urlName")?;
    let user = session_user(state, session)?;
    let site = state
        .data
        .site_by_url(url_name)
        .filter(|site| user.site_role(site.id).is_some())
        .map(|site| site.id)
        .ok_or_else(|| {
            Failure::business(
                code::BAD_CREDENTIALS,
                format!("no site \"{url_name}\" that this user can use"),
            )
        })?;
    if site == session.site {
        return Err(Failure::business(
            code::ALREADY_ON_SITE,
            format!("the session is already on site \"{url_name}\""),
        ));
    }
    let user_id = user.id;
    let issued = state
        .sessions
        .rotate(&session.id, site, call.instant, call.limits.session_ttl)
        .ok_or_else(|| Failure::http(401, code::INVALID_SESSION, "the session ended"))?;
    if let Some(user) = state.data.users.get_mut(&user_id) {
        user.last_site_id = Some(site);
    }
    signed_in(state, user_id, site, call, issued)
}

pub(super) fn session_info(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    Ok(Reply::ok(session_info_json(
        state,
        session.user,
        session.site,
        call,
    )?))
}

pub(super) fn logout(state: &mut ServerState, call: &Call) -> Outcome {
    let session = call.session()?;
    state.sessions.close(&session.id);
    let mut reply = Reply::ok(json!({ "redirectUrl": "/" }));
    reply
        .cookies
        .push(format!("{SESSION_COOKIE}=\"\"; Path=/; HttpOnly"));
    Ok(reply)
}

/// The session info of a new session, with its two cookies in Tableau's order.
fn signed_in(state: &ServerState, user: Id, site: Id, call: &Call, issued: Issued) -> Outcome {
    let mut reply = Reply::ok(session_info_json(state, user, site, call)?);
    reply.cookies.push(format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly",
        issued.session_id
    ));
    reply
        .cookies
        .push(format!("{XSRF_COOKIE}={}; Path=/", issued.xsrf));
    Ok(reply)
}

/// `server`, `site`, `user` and `isRestrictedTrustedTicketSession` (docs/protocol.md §2.6).
fn session_info_json(
    state: &ServerState,
    user: Id,
    site: Id,
    call: &Call,
) -> Result<Value, Failure> {
    let gone = || {
        Failure::http(
            401,
            code::INVALID_SESSION,
            "the session's user or site no longer exists",
        )
    };
    let user = state.data.users.get(&user).ok_or_else(gone)?;
    let site = state.data.sites.get(&site).ok_or_else(gone)?;
    let sites = state
        .data
        .sites
        .keys()
        .filter(|s| user.site_role(**s).is_some())
        .count();
    Ok(json!({
        "server": server_json(call.limits.session_ttl.as_secs()),
        "site": site_json(site, user),
        "user": {
            "language": "en",
            "id": user.id,
            "displayName": user.display_name,
            "locale": "en_US",
            "username": user.username,
            "domainName": "local",
            "displayMode": "list",
            "startPage": "/",
            "serverAdmin": user.server_admin,
            "numberOfSites": sites,
            "canManageUsers": user.administers(site.id),
        },
        "isRestrictedTrustedTicketSession": false,
    }))
}

fn site_json(site: &Site, user: &User) -> Value {
    json!({
        "name": site.name,
        "id": site.id,
        "role": user.site_role(site.id).unwrap_or_default(),
        "luid": site.luid,
        "urlName": site.url_name,
        "refreshFailureNotificationEnabled": true,
        "logoutEnabled": true,
        "thirdPartyAuthState": {
            "enabled": false,
            "allowed": false,
            "serverEnabled": false,
            "hasThirdPartyAuthenticatedUsers": false,
        },
        "versioningEnabled": true,
        "liveDBAvailable": false,
    })
}

/// The server part of the session info, modelled on Tableau Server 10.0.2.
fn server_json(idle_limit_seconds: u64) -> Value {
    json!({
        "defaultDomain": "local",
        "version": {
            "bitness": "64",
            "build": "10000.16.1004.1720",
            "externalVersion": { "major": "10", "minor": "0", "patch": "2" },
        },
        "siteCustomizationEnabled": false,
        "featureFlags": {
            "ha2Enabled": true,
            "subscribeOthersEnabled": true,
            "workbookVersionHistoryEnabled": true,
            "integratedDatasourcesUIEnabled": true,
            "contentDiscoveryPhase1Enabled": true,
            "contentDiscoveryPhase2Enabled": true,
        },
        "oauthSalesforceEnabled": false,
        "oauthQuickBooksEnabled": false,
        "oauthGoogleEnabled": false,
        "displaySchedulesInClientTimezone": true,
        "refreshFailureNotificationEnabledForServer": true,
        "displayScheduleDescriptionAsName": false,
        "helpEdition": "server",
        "supportHost": "",
        "supportPath": "",
        "datasourceHelpUrl": "",
        "updateEmailAllowed": true,
        "updateDisplayNameAllowed": true,
        "sessionIdleLimitSeconds": idle_limit_seconds,
        "tabAdminServiceEnabled": true,
        "alertLookBackDaysLimit": 14,
        "siteAdminSettingsEnabled": false,
        "defaultSubscriptionsEmail": "",
        "logicalServerInstanceId": "",
        "offlineHelpEnabled": false,
        "rebuildingSearchIndex": false,
        "alertFailureCountThreshold": 5,
        "guestEnabled": false,
        "sspiEnabled": false,
    })
}
