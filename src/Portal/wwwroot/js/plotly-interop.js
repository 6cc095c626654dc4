// JS side of Components/Shared/PlotlyChart.razor. Figures arrive as JSON strings so that the
// C# side controls the property names (plotly's lower-case spelling) rather than Blazor's camelCase.
// data-points (the number of x values over all traces) lets browser tests watch a chart grow.
function countPoints(element) {
    element.dataset.points = String((element.data || []).reduce((n, t) => n + (t.x ? t.x.length : 0), 0));
}

window.portalPlotly = {
    react: async function (element, figureJson) {
        const figure = JSON.parse(figureJson);
        await Plotly.react(element, figure.data, figure.layout, figure.config);
        element.dataset.plotted = "true";
        // Cards settle their width after the first draw; follow the container, not just the window.
        if (!element._portalResize && window.ResizeObserver) {
            element._portalResize = new ResizeObserver(() => { if (element.data) Plotly.Plots.resize(element); });
            element._portalResize.observe(element);
        }
        countPoints(element);
    },
    extend: function (element, updateJson) {
        if (!element || !element.data) {
            return;
        }
        const u = JSON.parse(updateJson);
        if (u.maxpoints) {
            Plotly.extendTraces(element, u.update, u.indices, u.maxpoints);
        } else {
            Plotly.extendTraces(element, u.update, u.indices);
        }
        countPoints(element);
    },
    purge: function (element) {
        if (element && element._portalResize) {
            element._portalResize.disconnect();
            element._portalResize = null;
        }
        if (element && window.Plotly) {
            Plotly.purge(element);
        }
    }
};
