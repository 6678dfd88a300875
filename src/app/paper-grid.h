// app/paper-grid.h: ECG paper (1 mm / 5 mm grid) drawn by our own GLSL ES 3.00 shaders
// (shaders/paper-grid.{vert,frag}, embedded at build time) inside ImGui's draw order.
//
// Usage, once per frame and region:
//   paper_grid_draw(grid, ImGui::GetWindowDrawList(), rect_min, rect_max, px_per_mm, origin_px);
// which queues a draw-list callback; the grid is painted when ImGui's renderer reaches it. origin_px is
// where a 5 mm line crossing lies (the paper's top-left corner), so the grid moves with panned paper.
#pragma once

#include <imgui.h>

#include <deque>

struct paper_grid_region {
    ImVec2 min_px, max_px;       // ImGui (framebuffer) pixels, y down
    ImVec2 origin_px;            // a major-line crossing, ImGui pixels
    float px_per_mm = 4.0f;
    float framebuffer_height_px = 0.0f;
    const struct paper_grid *grid = nullptr;
};

struct paper_grid {
    unsigned program = 0;
    unsigned vertex_array = 0;
    int u_origin_px = -1, u_px_per_mm = -1, u_paper_rgb = -1, u_minor_rgb = -1, u_major_rgb = -1, u_line_px = -1;
    // Regions queued this frame; a deque keeps their addresses stable while ImGui holds pointers to them.
    std::deque<paper_grid_region> regions;
    char error[512] = {0};  // shader compile/link log when init failed
};

// Compiles and links the shaders. Returns false (with grid.error set) when WebGL2 refuses them.
bool paper_grid_init(paper_grid &grid);
void paper_grid_shutdown(paper_grid &grid);
// Forget last frame's regions; call at the start of each frame.
void paper_grid_begin_frame(paper_grid &grid);
void paper_grid_draw(paper_grid &grid, ImDrawList *draw_list, ImVec2 min_px, ImVec2 max_px, float px_per_mm,
                     ImVec2 origin_px);
