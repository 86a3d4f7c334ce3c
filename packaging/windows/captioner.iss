; Inno Setup 6 script: a per-user Captioner installer (no administrator rights needed).
;
;   iscc /DAppVersion=0.1.0 packaging\windows\captioner.iss
;
; Expects the PyInstaller one-folder build in dist\captioner\ (Captioner.exe, captioner-cli.exe, _internal\)
; and the icon rendered by packaging\render_icons.py in build\icons\captioner.ico.
; Output: dist\Captioner-Setup-<version>.exe

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Captioner"
#define AppExe "Captioner.exe"
#define Root "..\.."

[Setup]
AppId={{6F1D2A4E-3C0B-4D7A-9B59-2E8C41A7C0DE}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Captioner developers
AppPublisherURL=https://github.com/captioner/captioner
; Per-user install: %LOCALAPPDATA%\Programs\Captioner, Start menu of this user, HKCU.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#Root}\dist
OutputBaseFilename=Captioner-Setup-{#AppVersion}
SetupIconFile={#Root}\build\icons\captioner.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; Close a running Captioner before files are replaced or removed.
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "startup"; Description: "Start Captioner when I sign in to Windows"; GroupDescription: "Start-up:"; Flags: unchecked
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Root}\dist\captioner\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
; Start-menu entry (the user's Programs folder with a per-user install).
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Live captions of your microphone or computer audio"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; Optional "start with Windows": a per-user Run entry, removed by the uninstaller.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "{#AppName}"; ValueData: """{app}\{#AppExe}"""; Flags: uninsdeletevalue; Tasks: startup

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; The user's settings and saved transcripts (in %APPDATA% / %LOCALAPPDATA%\captioner) are left in place.
Type: filesandordirs; Name: "{app}\_internal"
