-- pktgen-dpdk: replay G.711 RTP pcaps (made by rtp-pcap.py from the legs of calls set up
-- through mediagate's ng port) on two ports, one per mediagate interface, and print the
-- offered and returned packet rates once a second. Not run in CI (pktgen is not packaged
-- in Debian 12); see docs/pktgen.md.
--
--   pktgen -l 0-4 -n 4 -a <pci0> -a <pci1> -- -P -m "[1:2].0,[3:4].1" \
--       -s 0:rtp-A.pcap -s 1:rtp-B.pcap -f tests/perf/pktgen/rtp-pcap.lua
--
-- Settings through the environment: MG_RATE (percent of line rate, default 1: at 10 Gb/s
-- and 214-byte frames 1 % is ~ 54k packets/s per port, 540 G.711 legs' worth),
-- MG_SECONDS (default 30).
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local rate = tonumber(os.getenv("MG_RATE") or "1")
local seconds = tonumber(os.getenv("MG_SECONDS") or "30")
local ports = "0,1"

pktgen.stop("all")
pktgen.clr()
pktgen.pcap(ports, "on")
pktgen.set(ports, "rate", rate)
pktgen.set(ports, "burst", 32)
pktgen.set(ports, "count", 0) -- loop the pcap until stopped

local function totals()
	local s = pktgen.portStats("all", "port")
	local tx, rx = 0, 0
	for p = 0, 1 do
		if s[p] then
			tx = tx + (s[p].opackets or 0)
			rx = rx + (s[p].ipackets or 0)
		end
	end
	return tx, rx
end

printf("mediagate RTP replay: rate %d%% per port for %d s\n", rate, seconds)
pktgen.start(ports)
local tx0, rx0 = totals()
for t = 1, seconds do
	pktgen.delay(1000)
	local tx, rx = totals()
	printf("t=%3d s  sent %10d pps  returned %10d pps  (returned/sent %.4f)\n", t, tx - tx0,
		rx - rx0, (tx - tx0) > 0 and (rx - rx0) / (tx - tx0) or 0)
	tx0, rx0 = tx, rx
end
pktgen.stop(ports)
pktgen.delay(500)
local tx, rx = totals()
printf("total: sent %d, returned %d; compare with /mediagate/stats (docs/pktgen.md)\n", tx, rx)
