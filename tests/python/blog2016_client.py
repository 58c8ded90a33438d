#!/usr/bin/env python3
"""The 2016 "Tableau's Undocumented API Made Easy with Python" login client, ported to
Python 3 with as few changes as possible, to prove the emulator serves clients written
against Tableau Server 10.x.

Where the logic comes from: the viziblydiffrnt blog post of 2016-12-14
(christianmatei/viziblydiffrnt.github.io,
_posts/2016-12-14-tableaus-undocumented-api-made-easy-with-python.md) and the same code
in cmtoomey/vizportal_python, viz_portal_login.py. Both use requests.Session and
PyCrypto's PKCS1_v1_5, and both parse the login's Set-Cookie header naively: they split
the comma-joined header on ';' and then '=', and look the XSRF token up under the key
" HttpOnly, XSRF-TOKEN". That only works if the server sends exactly
    Set-Cookie: workgroup_session_id=V; Path=/; HttpOnly
    Set-Cookie: XSRF-TOKEN=V; Path=/
in that order, which is the point of running it against the emulator.

Changes from the original, all mechanical:
  * Python 3: print(), input arguments from argv instead of raw_input(), int() for long(),
    bytes decoded before they go into the JSON text.
  * PyCrypto is gone; PKCS#1 v1.5 encryption is written out below with the standard
    library (`pow` and `os.urandom`), so the test needs python3 and no pip package.
  * urllib with a cookie jar stands in for requests.Session. http.client joins repeated
    headers with ", " exactly as requests does, so the naive Set-Cookie parsing sees the
    same text.

Usage: blog2016_client.py SERVER_URL USERNAME PASSWORD TASK_ID SCHEDULE_ID
Exits 0 when setExtractTasksSchedule succeeded.
"""

import binascii
import http.cookiejar
import json
import os
import sys
import urllib.request

tab_server_url, tableau_username, tableau_password, task_id, schedule_id = sys.argv[1:6]


def _encode_for_display(text):
    return text.encode('ascii', errors="backslashreplace").decode('utf-8')


# Establish a session so we can retain the cookies
session = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def post(url, payload, headers):
    request = urllib.request.Request(url, data=payload.encode('utf-8'), headers=headers, method='POST')
    return session.open(request)


def generatePublicKey():
    payload = "{\"method\":\"generatePublicKey\",\"params\":{}}"
    endpoint = "generatePublicKey"
    url = tab_server_url + "/vizportal/api/web/v1/" + endpoint
    headers = {
        'content-type': "application/json;charset=UTF-8",
        'accept': "application/json, text/plain, */*",
        'cache-control': "no-cache"
    }
    response = post(url, payload, headers)
    response_text = json.loads(_encode_for_display(response.read().decode('utf-8')))
    response_values = {"keyId": response_text["result"]["keyId"], "n": response_text["result"]["key"]["n"],
                       "e": response_text["result"]["key"]["e"]}
    return response_values


# Generate a pubilc key that will be used to encrypt the user's password
public_key = generatePublicKey()
pk = public_key["keyId"]


def pkcs1_v15_encrypt(message, n, e):
    """RSAES-PKCS1-v1_5 (RFC 8017, 7.2.1): 00 02 || nonzero random bytes || 00 || message,
    read as a big-endian integer, raised to e mod n, written back in the modulus' length."""
    k = (n.bit_length() + 7) // 8
    if len(message) > k - 11:
        raise ValueError("message too long for a %d-byte RSA key" % k)
    padding = b""
    while len(padding) < k - 3 - len(message):
        padding += bytes(b for b in os.urandom(k - 3 - len(message) - len(padding)) if b != 0)
    block = b"\x00\x02" + padding + b"\x00" + message
    return pow(int.from_bytes(block, "big"), e, n).to_bytes(k, "big")


# Encrypt with RSA public key (it's important to use PKCS11)
def assymmetric_encrypt(val, public_key):
    modulusDecoded = int(public_key["n"], 16)
    exponentDecoded = int(public_key["e"], 16)
    # Generate a cypher using the PKCS1.5 standard
    return pkcs1_v15_encrypt(val.encode('utf-8'), modulusDecoded, exponentDecoded)


# Encrypt the password used to login
encryptedPassword = assymmetric_encrypt(tableau_password, public_key)


def vizportalLogin(encryptedPassword, keyId):
    encodedPassword = binascii.b2a_hex(encryptedPassword).decode('ascii')
    payload = "{\"method\":\"login\",\"params\":{\"username\":\"%s\", \"encryptedPassword\":\"%s\", \"keyId\":\"%s\"}}" % (
        tableau_username, encodedPassword, keyId)
    endpoint = "login"
    url = tab_server_url + "/vizportal/api/web/v1/" + endpoint
    headers = {
        'content-type': "application/json;charset=UTF-8",
        'accept': "application/json, text/plain, */*",
        'cache-control': "no-cache"
    }
    response = post(url, payload, headers)
    return response


# Capture the response
login_response = vizportalLogin(encryptedPassword, pk)
if login_response.status == 200:
    print("Login to Vizportal Successful!")
# Parse the cookie
sc = login_response.getheader("Set-Cookie")
set_cookie = dict(item.split("=") for item in sc.split(";"))
xsrf_token, workgroup_session_id = set_cookie[" HttpOnly, XSRF-TOKEN"], set_cookie["workgroup_session_id"]


# Use the xsrf_token you got from the login response cookie
def updateExtractSchedule(task_id, schedule_id, xsrf_token):
    payload = "{\"method\":\"setExtractTasksSchedule\",\"params\":{\"ids\":[\"%s\"], \"scheduleId\":\"%s\"}}" % (
        task_id, schedule_id)
    endpoint = "setExtractTasksSchedule"
    url = tab_server_url + "/vizportal/api/web/v1/" + endpoint
    headers = {
        'content-type': "application/json;charset=UTF-8",
        'accept': "application/json, text/plain, */*",
        'cache-control': "no-cache",
        'X-XSRF-TOKEN': xsrf_token
    }
    response = post(url, payload, headers)
    print(response.status)
    return response


update_response = updateExtractSchedule(task_id, schedule_id, xsrf_token)
result = json.loads(update_response.read().decode('utf-8'))["result"]
if update_response.status != 200 or result.get("errors"):
    print("setExtractTasksSchedule failed: %s" % result, file=sys.stderr)
    sys.exit(1)
