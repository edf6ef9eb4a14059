"""User defaults: a TOML config file, ``GITOVERIT_*`` environment variables, then flags.

Each setting is resolved from three layers; a later layer wins:

1. the config file, ``$XDG_CONFIG_HOME/gitoverit/config.toml`` (``~/.config/gitoverit/config.toml``
   when ``XDG_CONFIG_HOME`` is unset, empty or relative). ``GITOVERIT_CONFIG`` names another file.
   Without ``GITOVERIT_CONFIG``, when that file does not exist, the earlier gitoverit's
   file, ``$XDG_CONFIG_HOME/gito/config.toml``, is read in its place (:func:`config_file`);
   both take the same keys. A missing file is not an error, unless ``GITOVERIT_CONFIG``
   named it;
2. environment variables;
3. command-line flags (:func:`apply_flags`).

A scan setting that no layer gives stays ``None`` (or ``()`` for lists) and the CLI uses
its built-in default; the others hold their default (see :class:`Settings`).
:func:`load_settings` also returns, for every key, where its effective value came from;
``gitoverit config`` prints that (:func:`describe`).

The config file (every key is optional)::

    jobs = 8                          # local (status) workers, 1..1024
    net_jobs = 16                     # network (fetch/pull/push/clone) workers, 1..1024
    timeout = 120                     # seconds per network operation (> 0; int or float)
    columns = "-url"                  # a column spec, as for -c/--columns
    sort = "mtime"                    # one of the -s/--sort keys
    roots = ["~/code", "~/work"]      # scanned when no folder is given on the command line
    exclude = ["node_modules", "archive/*"]   # folder globs, as for --exclude
    trust_repo_config = false         # let repositories' own filter commands run in a scan
    column_priorities = "mtime=1"     # which table columns give way last ("500,500,500,300,300,1"
                                      # for dir, status, branch, remote, url, mtime, as before)
    log_file = "~/gito-debug.log"     # the debug log: every git command, its repo and time
    log_level = "DEBUG"               # DEBUG, INFO, WARNING (WARN), ERROR or CRITICAL
    id_rewrite_fg_color = "yellow"    # the colour of an identity a rule rewrote

    [groups]                          # @work wherever a folder is accepted (gitoverit.select)
    work = ["~/work", "~/code/api-*"] # folders, or globs of repository paths

    [[id_rewrite]]                    # rules that rewrite identities for display, in order
    type = "glob"                     # literal_full, literal_substring, glob or regex
    find = "* <*@corp.example>"
    replace = "work"
    fg = "cyan"                       # optional: this rule's colour

``~`` at the start of a root or of the log file is expanded; a relative root stays
relative to the current folder. An unknown key, a table, a value of the wrong type, out
of range or unknown (a column spec is checked by the output layer's parser), and a TOML
syntax error are all a :class:`ConfigError` whose message starts with ``<file>:<line>:``
(the line when found), then for a value its key: ``config.toml:3: columns: unknown column
'bogus'; ...``, or the rule at fault: ``config.toml:9: id_rewrite[1]: find: ...``, or the
group: ``config.toml:12: groups: work: must be a list ...``. A bad
variable or flag is named instead: ``GITOVERIT_JOBS: must be a positive integer ...``.

Environment variables (an empty or blank variable counts as unset):

==========================  ==============================================================
``GITOVERIT_JOBS``          integer
``GITOVERIT_NET_JOBS``      integer
``GITOVERIT_TIMEOUT``       number of seconds
``GITOVERIT_COLUMNS``       column spec
``GITOVERIT_SORT``          sort key
``GITOVERIT_ROOTS``         folders separated by ``os.pathsep`` (``:`` on POSIX), like PATH
``GITOVERIT_EXCLUDE``       globs separated by commas (``node_modules,archive/*``); blanks
                            around each item are dropped. Commas, not ``:``, because a
                            glob is not a path list and ``:`` is legal in folder names.
``GITOVERIT_TRUST_REPO_CONFIG``  ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``
``GITOVERIT_CONFIG``        the config file to read instead of the default one
``GITO_DEBUG_LOG``          ``log_file``; else ``GITOVERIT_DEBUG_LOG`` (the earlier names)
``GITO_LOG_LEVEL``          ``log_level``; else ``GITOVERIT_LOG_LEVEL``
``GITO_COLUMN_PRIORITIES``  ``column_priorities``; else ``GITOVERIT_COLUMN_PRIORITIES``
``GITOVERIT_ID_REWRITE_FG_COLOR``  ``id_rewrite_fg_color``; ``id_rewrite`` has no variable
==========================  ==============================================================

A flag, an environment variable or a file key each *replaces* the value below it; lists
(``roots``, ``exclude``, ``id_rewrite``) are not merged across layers. ``groups`` is set in
the file only; :mod:`gitoverit.config.edit` changes it there (``gitoverit group``).
:func:`debug_log.start_debug_log` opens the debug log that the settings name.
"""

from __future__ import annotations

from gitoverit.config.describe import describe, origin
from gitoverit.config.loading import apply_flags, default_sources, load_settings
from gitoverit.config.paths import (
    config_dir,
    config_file,
    config_path,
    earlier_config_path,
    expand_home,
)
from gitoverit.config.settings import (
    CONFIG_ENV,
    DEFAULT_COLUMN_PRIORITIES,
    KEYS,
    LOG_LEVELS,
    MAX_JOBS,
    POSITIONAL_PRIORITY_COLUMNS,
    ConfigError,
    Settings,
    SettingSource,
    env_var,
    env_vars,
    flag_name,
)

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_COLUMN_PRIORITIES",
    "KEYS",
    "LOG_LEVELS",
    "MAX_JOBS",
    "POSITIONAL_PRIORITY_COLUMNS",
    "ConfigError",
    "SettingSource",
    "Settings",
    "apply_flags",
    "config_dir",
    "config_file",
    "config_path",
    "default_sources",
    "describe",
    "earlier_config_path",
    "env_var",
    "env_vars",
    "expand_home",
    "flag_name",
    "load_settings",
    "origin",
]
