DROP INDEX throttle_window;
