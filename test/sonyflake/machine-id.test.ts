import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { NoPrivateAddressError, isPrivateIpv4, lower16BitPrivateIp, privateIpv4 } from '../../src/sonyflake/index.js'

test('private means RFC 1918 plus link-local, as in Sonyflake v2', () => {
  const yes = ['10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.254', '192.168.1.2', '169.254.3.4']
  const no = ['172.15.0.1', '172.32.0.1', '192.169.0.1', '8.8.8.8', '192.0.2.2', '127.0.0.1', '100.64.0.1', 'fd00::2', 'fe80::1', '10.0.0', '10.0.0.256', 'x.y.z.w']
  for (const a of yes) assert.ok(isPrivateIpv4(a), a)
  for (const a of no) assert.not.ok(isPrivateIpv4(a), a)
})

test('the first private address wins; loopback, public and IPv6 are skipped', () => {
  const addrs = ['127.0.0.1', '8.8.8.8', 'fe80::1', '192.168.3.4', '10.1.2.3']
  assert.is(privateIpv4(addrs), '192.168.3.4')
  assert.is(lower16BitPrivateIp(addrs), (3 << 8) + 4)
  assert.is(lower16BitPrivateIp(['10.9.255.254']), 0xfffe)
})

test('no private address: NoPrivateAddressError naming what was there', () => {
  try {
    lower16BitPrivateIp(['192.0.2.2', 'fd00::2'])
    assert.unreachable()
  } catch (err) {
    assert.instance(err, NoPrivateAddressError)
    assert.is((err as NoPrivateAddressError).code, 'ERR_SONYFLAKE_NO_PRIVATE_ADDRESS')
    assert.match((err as Error).message, 'no private ip address among [192.0.2.2, fd00::2]')
  }
  assert.throws(() => privateIpv4([]), (e: unknown) => e instanceof NoPrivateAddressError)
})

test.run()
