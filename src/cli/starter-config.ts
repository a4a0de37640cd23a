/** The commented starter configuration `custos init` writes. Every key shown is read by `custos.yml`'s schema. */
export const STARTER_CONFIG = `# Custos configuration. Every option below shows its default; uncomment to change it.
# OSSEC users can point --config at an ossec.conf instead: its <syscheck> block is read as is.

# agent:
#   name: web1                 # how this host appears in alerts (default: the hostname)

# database:
#   engine: sqlite
#   path: /var/lib/custos/custos.db   # default: /var/lib/custos (root) or ~/.local/state/custos

# alerts:
#   json: /var/lib/custos/alerts.json # one JSON alert per line (Wazuh's alerts.json fields)
#   log: /var/lib/custos/alerts.log   # OSSEC's alerts.log layout

syscheck:
  # What to monitor. Each entry takes OSSEC's options; with none, everything is checked (check_all).
  directories:
    - path: [/etc, /usr/bin, /usr/sbin, /bin, /sbin, /boot]
      check_all: yes
    # - path: /var/www
    #   check_sum: yes          # md5 + sha1 + sha256 only
    #   check_mtime: no
    #   check_xattrs: no        # also check_capabilities, check_acl, check_selinux, check_attrs, check_link_count
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

  # alert_new_files: yes        # alert on files added after the first scan (the first scan never alerts)
  # max_file_size: 1GiB         # larger files are checked by attributes only
  # rehash_interval: 7d         # rehash everything this often even when stat data is unchanged
  # skip_nfs: yes               # never walk into network, /proc, /sys or /dev file systems
  # skip_proc: yes
  # skip_sys: yes
  # skip_dev: yes
  # frequency: 6h               # scan schedule of the agent (custos check runs when you run it)
  # scan_on_start: yes
`;
