"""codesign.rtl_sim."""
