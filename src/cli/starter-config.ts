/** The commented starter configuration `custos init` writes. Every key shown is read by `custos.yml`'s schema. */
export const STARTER_CONFIG = `# Custos configuration. Every option below shows its default; uncomment to change it.
# OSSEC users can point --config at an ossec.conf instead: its <syscheck> block is read as is.

# agent:
#   name: web1                 # how this host appears in alerts (default: the hostname)
#   keepalive: 1m              # how often a running agent tells the manager it is alive

# database:
#   engine: sqlite
#   path: /var/lib/custos/custos.db   # default: /var/lib/custos (root) or ~/.local/state/custos

# alerts:
#   json: /var/lib/custos/alerts.json # one JSON alert per line (Wazuh's alerts.json fields)
#   log: /var/lib/custos/alerts.log   # OSSEC's alerts.log layout
#   full_log: ossec                   # full_log (what <match> reads) in OSSEC's words, or wazuh: File '/x' modified ...
#   manager_name: manager1            # manager.name in alerts.json (default: the hostname)
#   syslog: {host: siem.example, port: 514, protocol: udp}   # check: alerts and each scan's history head (rule 576)
#   webhook: {url: https://hooks.example/custos}              # check: the same, POSTed as JSON
#   history_key: /etc/custos/history.key   # a key file (mode 0600) outside the database: signs the history head

syscheck:
  # What to monitor. Each entry takes OSSEC's options; with none, everything is checked (check_all).
  directories:
    - path: [/etc, /usr/bin, /usr/sbin, /bin, /sbin, /boot]
      check_all: yes
    # - path: /var/www
    #   check_sum: yes          # md5 + sha1 + sha256 only (also: check_md5sum, check_sha1sum, check_sha256sum,
    #   check_mtime: no         #   check_size, check_owner, check_group, check_perm, check_mtime, check_inode)
    #   check_xattrs: no        # also check_capabilities, check_acl, check_selinux, check_attrs, check_link_count
    #   realtime: yes           # the agent watches it (inotify) and reports changes within seconds
    #   report_changes: no      # keep each changed file's content (off the host in a fleet) and alert with a diff
    #   diff_size_limit: 1MiB   # larger files here get "over the limit" instead of a diff
    #   tags: [web]
    #   recursion_level: 10     # 0 = only the entries directly inside
    #   restrict: .php$         # OSSEC sregex on the full path: only matching files
    #   follow_symbolic_link: no
    #   ignore: [/var/www/cache]

  # Paths never read: an exact path (and everything below it), or { sregex: PATTERN } (OSSEC's OSMatch).
  ignore:
    - /etc/mtab
    - /etc/hosts.deny
    - /etc/mail/statistics
    - /etc/random-seed
    - /etc/random.seed
    - /etc/adjtime
    - /etc/httpd/logs
    - /etc/utmpx
    - /etc/wtmpx
    - /etc/cups/certs
    - /etc/dumpdates
    - /etc/svc/volatile
    # - sregex: .swp$|~$

  # nodiff: [/etc/shadow]       # never show the content of these files
  # diff:                       # report_changes content copies (Wazuh's <diff> block)
  #   file_size: 1MiB           # the default diff_size_limit
  #   disk_quota: 1GiB          # all copies together, compressed; the oldest are evicted first
  #   builtin_nodiff: yes       # never keep shadow files, private keys, SSH host keys (README: Content diffs)
  #   redact: ['^license_key ']  # more lines to redact, besides password=, keys and tokens
  # alert_new_files: yes        # alert on files added after the first scan (the first scan never alerts)
  # max_file_size: 1GiB         # larger files are checked by attributes only
  # rehash_interval: 7d         # rehash everything this often even when stat data is unchanged
  # skip_nfs: yes               # never walk into network, /proc, /sys or /dev file systems
  # skip_proc: yes
  # skip_sys: yes
  # skip_dev: yes
  # frequency: 6h               # scan schedule of the agent (custos check runs when you run it)
  # scan_time: 10pm             # ... or at this time of day
  # scan_day: weekdays          # ... on these days (monday, sat,sun, !sunday)
  # scan_on_start: yes
  # process_priority: 10        # nice value of the agent's scan threads (-20..19); realtime keeps the service's
  # io_priority: best-effort:7  # I/O class of the scan threads: idle, best-effort:0..7
  # scan_files_per_second: 2000 # hold a scheduled scan to this many entries a second (default: no limit)
  # scan_bytes_per_second: 20MiB # ... and to this many bytes hashed a second
  # scan_cpu_share: 25%         # ... and to this share of the machine's CPU (all cores = 100%)
  # max_eps: 0                  # changes sent to the manager per second (0: no limit)
  # auto_ignore:                # a file changing more often than this is rolled up (rule 565), still recorded
  #   enabled: no
  #   frequency: 3
  #   timeframe: 1h

# rules:
#   files: [/etc/custos/local_rules.xml]   # OSSEC-compatible rule files, after the built-in ones

# known_hashes:                 # the known-hash database that explains package updates (custos hashdb import)
#   database: /var/lib/custos/hashdb.sqlite
#   match: path                 # path: content known at this very path; hash: known anywhere
#   silence:                    # which sources silence a change, and where
#     - sources: [deb-verified, rpm, apk, manual, manifest, dpkg-local]
#       paths: [/]

# manager:                      # custos manager start (fleet mode)
#   listen: 0.0.0.0:1515
#   silent_after: 10m           # an agent not heard from this long raises rule 563
#   token_ttl: 1h               # how long an enrollment token stays valid
#   syslog:                     # also send alerts to syslog
#     host: siem.example
#     port: 514
#     protocol: udp             # udp, tcp or tls
#     ca: /etc/custos/siem-ca.pem
#   webhook:                    # also POST alerts as JSON
#     url: https://hooks.example/custos
#     ca: /etc/custos/hooks-ca.pem
#     headers: { Authorization: Bearer-token-here }
#   packages:                   # verify the agents' .debs against signed indexes
#     keyring: /usr/share/keyrings/debian-archive-keyring.gpg
#     apt_lists: /var/lib/apt/lists
#     max_deb_size: 512MiB

# email:                        # OSSEC's email notification
#   notification: no
#   to: [security@example.com]
#   from: custos@example.com
#   reply_to: noreply@example.com
#   smtp_server: smtp.example.com:587
#   smtp_tls: auto              # auto, required, implicit or none
#   smtp_ca: /etc/custos/smtp-ca.pem
#   smtp_user: custos
#   smtp_password_file: /etc/custos/smtp-password
#   alert_level: 7              # alerts of this level and above are mailed
#   max_per_hour: 12
#   group_wait: 5s
#   max_delay: 1m
#   retry_delay: 10s
#   alerts:                     # extra recipients by level, group, rule or path
#     - to: [web-team@example.com]
#       level: 10
#       group: [syscheck]
#       rule_id: [550]
#       event_location: /var/www
#       do_not_delay: no
#       do_not_group: no
`;
