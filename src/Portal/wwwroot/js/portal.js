// Small browser-side helpers for the portal's shell.
window.portalPrefs = {
    // Preferences live in cookies so the server renders the first paint with them.
    set(name, value) {
        document.cookie = `${encodeURIComponent(name)}=${encodeURIComponent(value)}; path=/; max-age=31536000; samesite=lax`;
        if (name === 'modelops.theme') {
            document.body.classList.toggle('portal-dark', value === 'dark');
            document.body.classList.toggle('portal-light', value !== 'dark');
        }
    },
};
