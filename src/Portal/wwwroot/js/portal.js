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

window.portalCharts = {
    // Resolves once plotly has drawn the figure into the element (it adds js-plotly-plot and _fullLayout).
    whenDrawn(id) {
        return new Promise((resolve, reject) => {
            const started = performance.now();
            const check = () => {
                const el = document.getElementById(id);
                if (!el) return reject(new Error(`chart ${id} is not in the page`));
                if (el.classList.contains('js-plotly-plot') && el._fullLayout) return resolve();
                if (performance.now() - started > 60000) return reject(new Error(`chart ${id} was not drawn within 60 s`));
                requestAnimationFrame(check);
            };
            check();
        });
    },
};
