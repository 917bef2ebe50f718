#pragma once
// Output of nvme-cli 2.3 (libnvme 1.3) captured in the guest of tests/guest (then ../shared/linux-peer) (Linux 6.1 nvmet,
// subsystem nqn.2014-08.io.linux-peer:cap, model "capmodel", serial "capserial123", a 64 MiB
// file namespace with 4 KiB blocks, port 1 on 127.0.0.1:4420), byte for byte:
//   nvme discover -t tcp -a 127.0.0.1 -s 4420 [-o json]
//   nvme id-ctrl /dev/nvme0 [-o json]
//   nvme id-ns /dev/nvme0n1 [-o json]
namespace nvmfd::test {

inline constexpr const char* nvme_discover_normal = R"golden(
Discovery Log Number of Records 2, Generation counter 2
=====Discovery Log Entry 0======
trtype:  tcp
adrfam:  ipv4
subtype: current discovery subsystem
treq:    not specified, sq flow control disable supported
portid:  1
trsvcid: 4420
subnqn:  nqn.2014-08.org.nvmexpress.discovery
traddr:  127.0.0.1
eflags:  none
sectype: none
=====Discovery Log Entry 1======
trtype:  tcp
adrfam:  ipv4
subtype: nvme subsystem
treq:    not specified, sq flow control disable supported
portid:  1
trsvcid: 4420
subnqn:  nqn.2014-08.io.linux-peer:cap
traddr:  127.0.0.1
eflags:  none
sectype: none
)golden";

inline constexpr const char* nvme_discover_json = R"golden({
  "genctr":2,
  "records":[
    {
      "trtype":"tcp",
      "adrfam":"ipv4",
      "subtype":"current discovery subsystem",
      "treq":"not specified, sq flow control disable supported",
      "portid":1,
      "trsvcid":"4420",
      "subnqn":"nqn.2014-08.org.nvmexpress.discovery",
      "traddr":"127.0.0.1",
      "eflags":"none",
      "sectype":"none"
    },
    {
      "trtype":"tcp",
      "adrfam":"ipv4",
      "subtype":"nvme subsystem",
      "treq":"not specified, sq flow control disable supported",
      "portid":1,
      "trsvcid":"4420",
      "subnqn":"nqn.2014-08.io.linux-peer:cap",
      "traddr":"127.0.0.1",
      "eflags":"none",
      "sectype":"none"
    }
  ]
}
)golden";

inline constexpr const char* nvme_id_ctrl_json = R"golden({
  "vid":0,
  "ssvid":0,
  "sn":"capserial123        ",
  "mn":"capmodel                                ",
  "fr":"6.1.0-56",
  "rab":6,
  "ieee":0,
  "cmic":11,
  "mdts":0,
  "cntlid":1,
  "ver":66304,
  "rtd3r":0,
  "rtd3e":0,
  "oaes":2304,
  "ctratt":65,
  "rrls":0,
  "cntrltype":1,
  "fguid":"00000000-0000-0000-0000-000000000000",
  "crdt1":0,
  "crdt2":0,
  "crdt3":0,
  "nvmsr":0,
  "vwci":0,
  "mec":0,
  "oacs":0,
  "acl":3,
  "aerl":3,
  "frmw":3,
  "lpa":7,
  "elpe":127,
  "npss":0,
  "avscc":0,
  "apsta":0,
  "wctemp":0,
  "cctemp":0,
  "mtfa":0,
  "hmpre":0,
  "hmmin":0,
  "tnvmcap":"0",
  "unvmcap":"0",
  "rpmbs":0,
  "edstt":0,
  "dsto":0,
  "fwug":0,
  "kas":10,
  "hctma":0,
  "mntmt":0,
  "mxtmt":0,
  "sanicap":0,
  "hmminds":0,
  "hmmaxd":0,
  "nsetidmax":0,
  "endgidmax":0,
  "anatt":10,
  "anacap":31,
  "anagrpmax":128,
  "nanagrpid":128,
  "pels":0,
  "domainid":0,
  "megcap":"0",
  "sqes":102,
  "cqes":68,
  "maxcmd":1024,
  "nn":1024,
  "oncs":12,
  "fuses":0,
  "fna":0,
  "vwc":1,
  "awun":0,
  "awupf":0,
  "icsvscc":0,
  "nwpc":1,
  "acwu":0,
  "ocfs":0,
  "sgls":1048577,
  "mnan":1024,
  "maxdna":"0",
  "maxcna":0,
  "subnqn":"nqn.2014-08.io.linux-peer:cap",
  "ioccsz":1028,
  "iorcsz":1,
  "icdoff":0,
  "fcatt":0,
  "msdbd":1,
  "ofcs":0,
  "psds":[
    {
      "max_power":2500,
      "flags":0,
      "entry_lat":16,
      "exit_lat":4,
      "read_tput":0,
      "read_lat":0,
      "write_tput":0,
      "write_lat":0,
      "idle_power":0,
      "idle_scale":0,
      "active_power":0,
      "active_power_work":0,
      "active_scale":0
    }
  ]
}
)golden";

inline constexpr const char* nvme_id_ctrl_normal = R"golden(NVME Identify Controller:
vid       : 0
ssvid     : 0
sn        : capserial123        
mn        : capmodel                                
fr        : 6.1.0-56
rab       : 6
ieee      : 000000
cmic      : 0xb
mdts      : 0
cntlid    : 0x1
ver       : 0x10300
rtd3r     : 0
rtd3e     : 0
oaes      : 0x900
ctratt    : 0x41
rrls      : 0
cntrltype : 1
fguid     : 00000000-0000-0000-0000-000000000000
crdt1     : 0
crdt2     : 0
crdt3     : 0
nvmsr     : 0
vwci      : 0
mec       : 0
oacs      : 0
acl       : 3
aerl      : 3
frmw      : 0x3
lpa       : 0x7
elpe      : 127
npss      : 0
avscc     : 0
apsta     : 0
wctemp    : 0
cctemp    : 0
mtfa      : 0
hmpre     : 0
hmmin     : 0
tnvmcap   : 0
unvmcap   : 0
rpmbs     : 0
edstt     : 0
dsto      : 0
fwug      : 0
kas       : 10
hctma     : 0
mntmt     : 0
mxtmt     : 0
sanicap   : 0
hmminds   : 0
hmmaxd    : 0
nsetidmax : 0
endgidmax : 0
anatt     : 10
anacap    : 31
anagrpmax : 128
nanagrpid : 128
pels      : 0
domainid  : 0
megcap    : 0
sqes      : 0x66
cqes      : 0x44
maxcmd    : 1024
nn        : 1024
oncs      : 0xc
fuses     : 0
fna       : 0
vwc       : 0x1
awun      : 0
awupf     : 0
icsvscc   : 0
nwpc      : 1
acwu      : 0
ocfs      : 0
sgls      : 0x100001
mnan      : 1024
maxdna    : 0
maxcna    : 0
subnqn    : nqn.2014-08.io.linux-peer:cap
ioccsz    : 1028
iorcsz    : 1
icdoff    : 0
fcatt     : 0
msdbd     : 1
ofcs      : 0
ps      0 : mp:25.00W operational enlat:16 exlat:4 rrt:0 rrl:0
            rwt:0 rwl:0 idle_power:- active_power:-
            active_power_workload:-
)golden";

inline constexpr const char* nvme_id_ns_json = R"golden({
  "nsze":16384,
  "ncap":16384,
  "nuse":16384,
  "nsfeat":0,
  "nlbaf":0,
  "flbas":0,
  "mc":0,
  "dpc":0,
  "dps":0,
  "nmic":1,
  "rescap":0,
  "fpi":0,
  "dlfeat":0,
  "nawun":0,
  "nawupf":0,
  "nacwu":0,
  "nabsn":0,
  "nabo":0,
  "nabspf":0,
  "noiob":0,
  "nvmcap":"0",
  "nsattr":0,
  "nvmsetid":0,
  "mssrl":0,
  "mcl":0,
  "msrc":0,
  "nulbaf":0,
  "anagrpid":1,
  "endgid":0,
  "eui64":"0000000000000000",
  "nguid":"00000000000000000000000000000000",
  "lbafs":[
    {
      "ms":0,
      "ds":12,
      "rp":0
    }
  ]
}
)golden";

inline constexpr const char* nvme_id_ns_normal = R"golden(NVME Identify Namespace 1:
nsze    : 0x4000
ncap    : 0x4000
nuse    : 0x4000
nsfeat  : 0
nlbaf   : 0
flbas   : 0
mc      : 0
dpc     : 0
dps     : 0
nmic    : 0x1
rescap  : 0
fpi     : 0
dlfeat  : 0
nawun   : 0
nawupf  : 0
nacwu   : 0
nabsn   : 0
nabo    : 0
nabspf  : 0
noiob   : 0
nvmcap  : 0
mssrl   : 0
mcl     : 0
msrc    : 0
nulbaf  : 0
anagrpid: 1
nsattr	: 0
nvmsetid: 0
endgid  : 0
nguid   : 00000000000000000000000000000000
eui64   : 0000000000000000
lbaf  0 : ms:0   lbads:12 rp:0 (in use)
)golden";

}  // namespace nvmfd::test
