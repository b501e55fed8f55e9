"""Desktop integration without a window: resources, launcher, menu entry and autostart.

Pure Python (no QtGui/QtWidgets, no Qt at all), so the CLI can install the menu entry or switch
autostart on a machine where the window never opens. Every OS call that cannot run on Linux
(the Windows registry) lives in `platform_calls`.
"""

# Reverse-DNS id shared by the .desktop file, the AppStream metainfo, the installed icon name,
# the autostart entry and the macOS bundle identifier.
APP_ID = "io.github.jobdesk.Jobdesk"
