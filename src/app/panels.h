// app/panels.h: the side panels of the app (internal to src/app): the result of the selected ECG, the
// worklist, the K+ trend of one patient and the screen-calibration dialog.
#pragma once

#include "app.h"

// The result panel: K+ and its group, probabilities, per-lead bars, measurements, warnings, model, statement.
// compact: the report's version (no interactive widgets).
void panel_result(app_state &app, const app_entry *entry, bool compact);
// The measurements (kalium vs cart), the model and the statement: part of panel_result unless compact (the
// report draws them under the ECG).
void panel_result_details(app_state &app, const app_entry *entry);
// The worklist table (sortable, selectable); Up/Down handled by the caller through app_select.
void panel_worklist(app_state &app);
// K+ against start time for the entries sharing the selected entry's patient id; false when there are
// fewer than two such results (nothing drawn).
bool panel_trend_available(const app_state &app);
void panel_trend(app_state &app, ImVec2 size_px);
// The credit-card calibration dialog (app.calibration.open).
void panel_calibration(app_state &app);
// Entry indices in the worklist's current sort order (app.worklist_order is refreshed from it).
void panel_sort_worklist(app_state &app);

// The statement shown with every result is the core's k_model_statement (kalium.h).
